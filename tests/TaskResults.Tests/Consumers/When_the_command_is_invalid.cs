using TaskResults.Service;

namespace TaskResults.Tests.Consumers;

/// <summary>A command that cannot name a job is rejected before the API is called, once, without redelivery.</summary>
public sealed class When_the_command_is_invalid
{
    public static TheoryData<string, string> Commands => new()
    {
        { "", TaskTypes.HdColourMigration },
        { "   ", TaskTypes.GenerateCartoonizedImage },
        { new string('j', 1024 * 1024), TaskTypes.HdColourMigration },
        { "job-huge-type", new string('T', 1024 * 1024) },
        { "job-lower-case-type", "hd_colour_migration" },
        { "job-empty-type", "" },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Should_publish_TaskFailed_INVALID_COMMAND_without_calling_the_API(string jobId, string taskType)
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script(jobId, FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/never-fetched.png"]));

        await service.Send(new CheckTaskResult { JobId = jobId, TaskType = taskType });

        // The event names the job by the sender's words, but never more than an excerpt of them.
        var named = ForeignText.Excerpt(jobId, ForeignText.SenderExcerpt)!;
        var failed = (await service.WaitFor<TaskFailed>(named)).Context.Message;
        Assert.Equal(FailureReasons.InvalidCommand, failed.Reason);
        Assert.Equal(ForeignText.Excerpt(taskType, ForeignText.SenderExcerpt), failed.TaskType);
        Assert.InRange(failed.JobId.Length + failed.TaskType.Length + failed.ErrorMessage!.Length, 1, 3 * (ForeignText.SenderExcerpt + 1));
        Assert.Equal(0, failed.Attempts);
        Assert.False(string.IsNullOrWhiteSpace(failed.ErrorMessage));

        await service.UntilQuiet();
        Assert.Empty(service.Api.Requests);
        var check = Assert.Single(service.Checks(jobId));
        Assert.Null(check.Exception);
        Assert.Single(service.Events<TaskFailed>(named));
        Assert.Empty(service.Events<TaskPending>(named));
    }
}
