namespace TaskResults.Tests.Consumers;

/// <summary>Events leave the service: nothing it puts on the bus may carry the key, whatever path the job took.</summary>
public sealed class Should_never_publish_the_API_key
{
    [Fact]
    public async Task Should_leave_the_key_out_of_every_event_and_rescheduled_command()
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api
            .Script("job-ok", FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/ok.png"]))
            .Script("job-bad-key", FakeResponse.Error(401, "ERROR_USER_NOT_EXISTS", "The user does not exist."))
            .Script("job-dropped", ApiAnswers.DroppedConnection, FakeResponse.Raw(502, "<html>Bad Gateway</html>"), FakeResponse.Status("PROCESS_FAILED"))
            .Script("task-ok", FakeResponse.TaskStatus(2, new { result_url = "https://files.example/task.png" }));

        await service.Send(new CheckTaskResult { JobId = "job-ok", TaskType = TaskTypes.HdColourMigration });
        await service.Send(new CheckTaskResult { JobId = "job-bad-key", TaskType = TaskTypes.GenerateCartoonizedImage });
        await service.Send(new CheckTaskResult { JobId = "job-dropped", TaskType = TaskTypes.GenerateCartoonizedImage });
        await service.Send(new CheckTaskResult { JobId = "task-ok", TaskType = TaskTypes.AsyncTask });
        await service.Send(new CheckTaskResult { JobId = "job-invalid", TaskType = "NOT_A_TYPE" });
        await service.Send(new CheckTaskResult { JobId = "job-expired", TaskType = TaskTypes.HdColourMigration, Deadline = DateTimeOffset.UtcNow.AddSeconds(-1) });

        await service.WaitFor<TaskSucceeded>("job-ok");
        await service.WaitFor<TaskFailed>("job-bad-key");
        await service.WaitFor<TaskFailed>("job-dropped");
        await service.WaitFor<TaskSucceeded>("task-ok");
        await service.WaitFor<TaskFailed>("job-invalid");
        await service.WaitFor<TaskFailed>("job-expired");
        await service.UntilQuiet();

        var everything = service.EverythingOnTheBusAsJson().ToList();
        Assert.True(everything.Count >= 2 * 8, "Expected at least the eight events and their headers on the bus.");
        Assert.All(everything, json => Assert.DoesNotContain(FakeAILabToolsApi.ApiKey, json));
    }
}
