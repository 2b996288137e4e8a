using TaskResults.Service.Consumers;

namespace TaskResults.Tests.Consumers;

public sealed class When_a_job_has_succeeded_by_the_first_check
{
    public static TheoryData<string, string[]> Jobs => new()
    {
        { TaskTypes.HdColourMigration, ["https://files.example/hd/1.webp", "https://files.example/hd/2.webp"] },
        { TaskTypes.GenerateCartoonizedImage, ["https://files.example/cartoon.png"] },
    };

    [Theory]
    [MemberData(nameof(Jobs))]
    public async Task Should_publish_TaskSucceeded_with_the_results_and_the_senders_ids(string taskType, string[] urls)
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("job-1", taskType == TaskTypes.HdColourMigration
            ? FakeResponse.Status("PROCESS_SUCCESS", imageList: urls)
            : FakeResponse.Status("PROCESS_SUCCESS", resultUrl: urls[0]));
        var ids = MessageIds.New();
        var before = DateTimeOffset.UtcNow;

        await service.Send(new CheckTaskResult { JobId = "job-1", TaskType = taskType }, ids.ApplyTo);

        var published = await service.WaitFor<TaskSucceeded>("job-1");
        var after = DateTimeOffset.UtcNow;
        var succeeded = published.Context.Message;
        Assert.Equal(taskType, succeeded.TaskType);
        Assert.Equal(urls, succeeded.ResultUrls);
        Assert.InRange(succeeded.ResultsExpireAt, before + CheckTaskResultConsumer.ResultLifetime, after + CheckTaskResultConsumer.ResultLifetime);
        Assert.Equal(TimeSpan.FromHours(24), CheckTaskResultConsumer.ResultLifetime);
        Assert.Equal(1, succeeded.Attempts);
        Assert.Equal("req-1", succeeded.RequestId);
        Assert.Equal("log-1", succeeded.LogId);
        ids.AssertCarriedBy(published.Context);

        await service.UntilQuiet();
        Assert.Empty(service.Events<TaskPending>("job-1"));
        Assert.Empty(service.Events<TaskFailed>("job-1"));
        Assert.Single(service.Events<TaskSucceeded>("job-1"));
        Assert.Equal(1, service.Api.CallsFor("job-1"));
    }
}
