namespace TaskResults.Tests.Consumers;

/// <summary>Transient errors are not the job failing: the service asks again after a backoff, silently.</summary>
public sealed class When_the_API_answers_with_transient_errors
{
    [Fact]
    public async Task Should_ask_again_without_events_until_the_job_succeeds()
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("job-busy",
            FakeResponse.Error(503, "AI_SERVICE_FLOW_RESTRICTION", "Busy."),
            FakeResponse.Error(429, "EXCEEDING_LIMITS", "Slow down."),
            FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/busy.png"]));
        var ids = MessageIds.New();

        await service.Send(new CheckTaskResult { JobId = "job-busy", TaskType = TaskTypes.HdColourMigration }, ids.ApplyTo);

        var published = await service.WaitFor<TaskSucceeded>("job-busy");
        Assert.Equal(["https://files.example/busy.png"], published.Context.Message.ResultUrls);
        Assert.Equal(3, published.Context.Message.Attempts);
        // The ids survive the two reschedules.
        ids.AssertCarriedBy(published.Context);

        await service.UntilQuiet();
        Assert.Empty(service.Events<TaskPending>("job-busy"));
        Assert.Empty(service.Events<TaskFailed>("job-busy"));
        Assert.Equal(3, service.Api.CallsFor("job-busy"));
    }

    [Fact]
    public async Task Should_ride_out_a_dropped_connection_and_a_proxy_error_page()
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("task-flaky",
            ApiAnswers.DroppedConnection,
            FakeResponse.Raw(502, "<html><body>Bad Gateway</body></html>"),
            FakeResponse.TaskStatus(2, new { result_url = "https://files.example/flaky.png" }));

        await service.Send(new CheckTaskResult { JobId = "task-flaky", TaskType = TaskTypes.AsyncTask });

        var succeeded = (await service.WaitFor<TaskSucceeded>("task-flaky")).Context.Message;
        Assert.Equal(["https://files.example/flaky.png"], succeeded.ResultUrls);

        await service.UntilQuiet();
        Assert.Empty(service.Events<TaskPending>("task-flaky"));
        Assert.Empty(service.Events<TaskFailed>("task-flaky"));
        Assert.Equal(3, service.Api.CallsFor("task-flaky"));
    }
}
