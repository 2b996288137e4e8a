namespace TaskResults.Tests.Consumers;

public sealed class When_a_command_names_no_deadline
{
    [Fact]
    public async Task Should_keep_the_deadline_of_the_first_check_through_every_reschedule()
    {
        // A check every 100 ms (TestConfiguration): 4 s leave room for three even when a loaded machine stretches each
        // check and wait to over a second (a fresh clone once fitted only two into 1.5 s).
        await using var service = await ServiceHarness.StartAsync(settings => settings["Polling:DefaultDeadline"] = "00:00:04");
        service.Api.Script("no-deadline", FakeResponse.Status("QUEUING"));

        await service.Send(new CheckTaskResult { JobId = "no-deadline", TaskType = TaskTypes.HdColourMigration });

        var failed = (await service.WaitFor<TaskFailed>("no-deadline")).Context.Message;
        Assert.Equal(FailureReasons.DeadlineExceeded, failed.Reason);
        var pending = service.Events<TaskPending>("no-deadline");
        Assert.True(pending.Count >= 3, $"Only {pending.Count} pending checks before the deadline.");
        Assert.Single(pending.Select(p => p.Deadline).Distinct());
        Assert.Equal(pending.Count, failed.Attempts);
    }
}
