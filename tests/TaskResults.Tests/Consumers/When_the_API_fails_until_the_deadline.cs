namespace TaskResults.Tests.Consumers;

public sealed class When_the_API_fails_until_the_deadline
{
    [Fact]
    public async Task Should_say_in_the_deadline_failure_what_the_last_check_ran_into()
    {
        await using var service = await ServiceHarness.StartAsync(settings =>
        {
            settings["Polling:DefaultDeadline"] = "00:00:00.600";
            settings["AILabTools:QuickRetries"] = "0";
            settings["AILabTools:BreakAfterFailures"] = "1000";
        });
        service.Api.Script("always-503", FakeResponse.Error(503, "AI_SERVICE_ERROR", "Busy"));

        await service.Send(new CheckTaskResult { JobId = "always-503", TaskType = TaskTypes.HdColourMigration });

        var failed = (await service.WaitFor<TaskFailed>("always-503")).Context.Message;
        Assert.Equal(FailureReasons.DeadlineExceeded, failed.Reason);
        Assert.Contains("The last check failed: AI_SERVICE_ERROR: Busy", failed.ErrorMessage, StringComparison.Ordinal);
        Assert.Empty(service.Events<TaskPending>("always-503"));
    }
}
