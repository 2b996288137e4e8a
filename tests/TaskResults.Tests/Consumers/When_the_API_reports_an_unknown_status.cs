namespace TaskResults.Tests.Consumers;

/// <summary>An unknown status is pending (raw, in the event) and polled at the normal pace, never in a tight loop.</summary>
public sealed class When_the_API_reports_an_unknown_status
{
    [Theory]
    [InlineData(TaskTypes.HdColourMigration, "PAUSED_FOR_REVIEW")]
    [InlineData(TaskTypes.AsyncTask, "7")]
    public async Task Should_publish_TaskPending_with_the_raw_status_and_check_again_after_the_interval(string taskType, string rawStatus)
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("job-odd", taskType == TaskTypes.AsyncTask
            ? [FakeResponse.TaskStatus(7), FakeResponse.TaskStatus(2, new { result_url = "https://files.example/odd.png" })]
            : [FakeResponse.Status(rawStatus), FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/odd.png"])]);

        await service.Send(new CheckTaskResult { JobId = "job-odd", TaskType = taskType });

        var succeeded = (await service.WaitFor<TaskSucceeded>("job-odd")).Context.Message;
        Assert.Equal(["https://files.example/odd.png"], succeeded.ResultUrls);
        var pending = Assert.Single(service.Events<TaskPending>("job-odd"));
        Assert.Equal(rawStatus, pending.Status);
        Assert.Equal(1, pending.Attempt);

        // The second call leaves at least one polling interval after the first was answered, so the
        // arrivals are that far apart too; a little is allowed for timer and clock granularity.
        var calls = service.Api.Requests.Where(r => r.JobId == "job-odd").Select(r => r.At).ToList();
        Assert.Equal(2, calls.Count);
        var minimumGap = service.PollingInterval() - TimeSpan.FromMilliseconds(15);
        Assert.True(calls[1] - calls[0] >= minimumGap, $"The second check came {(calls[1] - calls[0]).TotalMilliseconds} ms after the first; expected at least {minimumGap.TotalMilliseconds} ms.");
    }
}
