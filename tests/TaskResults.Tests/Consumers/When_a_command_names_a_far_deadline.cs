namespace TaskResults.Tests.Consumers;

public sealed class When_a_command_names_a_far_deadline
{
    [Fact]
    public async Task Should_cap_it_at_the_maximum_so_no_job_is_polled_forever()
    {
        await using var service = await ServiceHarness.StartAsync(settings => settings["Polling:MaxDeadline"] = "01:00:00");
        service.Api.Script("far", FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/far.png"));
        var before = DateTimeOffset.UtcNow;

        await service.Send(new CheckTaskResult { JobId = "far", TaskType = TaskTypes.GenerateCartoonizedImage, Deadline = DateTimeOffset.MaxValue.AddDays(-1) });

        var pending = (await service.WaitFor<TaskPending>("far")).Context.Message;
        Assert.InRange(pending.Deadline, before.AddHours(1), DateTimeOffset.UtcNow.AddHours(1));
        await service.WaitFor<TaskSucceeded>("far");
    }
}
