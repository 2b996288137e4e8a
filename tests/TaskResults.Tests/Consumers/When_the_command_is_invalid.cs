namespace TaskResults.Tests.Consumers;

/// <summary>A command that cannot name a job is rejected before the API is called, once, without redelivery.</summary>
public sealed class When_the_command_is_invalid
{
    public static TheoryData<string, string> Commands => new()
    {
        { "", TaskTypes.HdColourMigration },
        { "   ", TaskTypes.GenerateCartoonizedImage },
        { new string('j', 10 * 1024), TaskTypes.HdColourMigration },
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

        var failed = (await service.WaitFor<TaskFailed>(jobId)).Context.Message;
        Assert.Equal(FailureReasons.InvalidCommand, failed.Reason);
        Assert.Equal(taskType, failed.TaskType);
        Assert.Equal(0, failed.Attempts);
        Assert.False(string.IsNullOrWhiteSpace(failed.ErrorMessage));

        await service.UntilQuiet();
        Assert.Empty(service.Api.Requests);
        var check = Assert.Single(service.Checks(jobId));
        Assert.Null(check.Exception);
        Assert.Single(service.Events<TaskFailed>(jobId));
        Assert.Empty(service.Events<TaskPending>(jobId));
    }
}
