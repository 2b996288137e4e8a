namespace TaskResults.Tests.Consumers;

/// <summary>Commands for the seed endpoint and the common endpoint share one queue and one consumer, side by side.</summary>
public sealed class When_old_and_new_commands_arrive_together
{
    private sealed record Job(string JobId, string TaskType, FakeResponse[] Answers, string? ExpectedFailure = null, params string[] ExpectedUrls);

    private static readonly Job[] Jobs =
    [
        new("hd-now", TaskTypes.HdColourMigration, [FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/hd-now/1.png", "https://files.example/hd-now/2.png"])],
            null, "https://files.example/hd-now/1.png", "https://files.example/hd-now/2.png"),
        new("hd-later", TaskTypes.HdColourMigration, [FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESSING"), FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/hd-later.png"])],
            null, "https://files.example/hd-later.png"),
        new("hd-timeout", TaskTypes.HdColourMigration, [FakeResponse.Status("QUEUING"), FakeResponse.Status("TIMEOUT_FAILED")], "TIMEOUT_FAILED"),
        new("cartoon-now", TaskTypes.GenerateCartoonizedImage, [FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/cartoon-now.png")],
            null, "https://files.example/cartoon-now.png"),
        new("cartoon-later", TaskTypes.GenerateCartoonizedImage, [FakeResponse.Error(503, "ERROR_RESOURCE_UNAVAILABLE", "Busy."), FakeResponse.Status("PROCESSING"), FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/cartoon-later.png")],
            null, "https://files.example/cartoon-later.png"),
        new("cartoon-failed", TaskTypes.GenerateCartoonizedImage, [FakeResponse.Status("PROCESSING"), FakeResponse.Status("PROCESS_FAILED")], "PROCESS_FAILED"),
        new("task-now", TaskTypes.AsyncTask, [FakeResponse.TaskStatus(2, new { result_url = "https://files.example/task-now.png" })],
            null, "https://files.example/task-now.png"),
        new("task-later", TaskTypes.AsyncTask, [FakeResponse.TaskStatus(0), FakeResponse.TaskStatus(1), FakeResponse.TaskStatus(2, new { result_url = "https://files.example/task-later.png" })],
            null, "https://files.example/task-later.png"),
        new("task-failed", TaskTypes.AsyncTask, [FakeResponse.TaskStatus(1), FakeResponse.TaskStatus(3)], "PROCESS_FAILED"),
        new("task-no-credits", TaskTypes.AsyncTask, [FakeResponse.Error(429, "ERROR_NOT_ENOUGH_CREDITS", "Top up.")], FailureReasons.ApiError),
    ];

    [Fact]
    public async Task Should_give_each_job_its_own_terminal_event()
    {
        await using var service = await ServiceHarness.StartAsync();
        foreach (var job in Jobs) service.Api.Script(job.JobId, job.Answers);

        // Interleaved, some sent and some published, as several senders would.
        await Task.WhenAll(Jobs.Select((job, i) => i % 3 == 0
            ? service.Harness.Bus.Publish(new CheckTaskResult { JobId = job.JobId, TaskType = job.TaskType })
            : service.Send(new CheckTaskResult { JobId = job.JobId, TaskType = job.TaskType })));

        await Task.WhenAll(Jobs.Select(job => job.ExpectedFailure is null ? service.WaitFor<TaskSucceeded>(job.JobId) : (Task)service.WaitFor<TaskFailed>(job.JobId)));
        await service.UntilQuiet();

        Assert.All(Jobs, job =>
        {
            var succeeded = service.Events<TaskSucceeded>(job.JobId);
            var failed = service.Events<TaskFailed>(job.JobId);
            if (job.ExpectedFailure is null)
            {
                Assert.Empty(failed);
                Assert.Equal(job.ExpectedUrls, Assert.Single(succeeded).ResultUrls);
                Assert.Equal(job.TaskType, succeeded[0].TaskType);
            }
            else
            {
                Assert.Empty(succeeded);
                Assert.Equal(job.ExpectedFailure, Assert.Single(failed).Reason);
                Assert.Equal(job.TaskType, failed[0].TaskType);
            }

            // Each job was asked about at its own endpoint, under its own type.
            var expectedPath = job.TaskType == TaskTypes.AsyncTask ? "/api/common/query-async-task-result" : "/api/image/asyn-task-results";
            var expectedType = job.TaskType == TaskTypes.AsyncTask ? null : job.TaskType;
            Assert.All(service.Api.Requests.Where(r => r.JobId == job.JobId), r => Assert.Equal((expectedPath, expectedType), (r.Path, r.Type)));
            Assert.Equal(job.Answers.Length, service.Api.CallsFor(job.JobId));
        });
    }
}
