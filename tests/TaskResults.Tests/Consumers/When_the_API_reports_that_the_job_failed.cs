namespace TaskResults.Tests.Consumers;

public sealed class When_the_API_reports_that_the_job_failed
{
    [Theory]
    [InlineData(TaskTypes.HdColourMigration, "PROCESS_FAILED")]
    [InlineData(TaskTypes.GenerateCartoonizedImage, "TIMEOUT_FAILED")]
    [InlineData(TaskTypes.HdColourMigration, "LIMIT_RETRY_FAILED")]
    public async Task Should_publish_TaskFailed_with_the_status_once_and_stop(string taskType, string status)
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("job-failed", FakeResponse.Status(status));

        await service.Send(new CheckTaskResult { JobId = "job-failed", TaskType = taskType });

        var failed = (await service.WaitFor<TaskFailed>("job-failed")).Context.Message;
        Assert.Equal(status, failed.Reason);
        Assert.Equal(taskType, failed.TaskType);
        Assert.Equal(1, failed.Attempts);
        Assert.Equal(200, failed.HttpStatus);
        Assert.Equal("req-1", failed.RequestId);
        Assert.Equal("log-1", failed.LogId);

        await service.UntilQuiet();
        Assert.Empty(service.Events<TaskPending>("job-failed"));
        Assert.Single(service.Events<TaskFailed>("job-failed"));
        Assert.Single(service.Checks("job-failed"));
        Assert.Equal(1, service.Api.CallsFor("job-failed"));
    }

    [Fact]
    public async Task Should_publish_TaskFailed_PROCESS_FAILED_for_an_async_task_with_status_3()
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("task-failed", FakeResponse.TaskStatus(0), FakeResponse.TaskStatus(3));

        await service.Send(new CheckTaskResult { JobId = "task-failed", TaskType = TaskTypes.AsyncTask });

        var failed = (await service.WaitFor<TaskFailed>("task-failed")).Context.Message;
        Assert.Equal(FailureReasons.ProcessFailed, failed.Reason);
        Assert.Equal(2, failed.Attempts);
        Assert.Equal("QUEUED", Assert.Single(service.Events<TaskPending>("task-failed")).Status);
    }
}
