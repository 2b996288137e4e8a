namespace TaskResults.Tests.Consumers;

public sealed class When_the_same_command_is_sent_twice
{
    [Fact]
    public async Task Should_answer_each_with_the_same_result()
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("twice", FakeResponse.Status("QUEUING"), FakeResponse.Status("QUEUING"),
            FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/twice.png"]));
        var command = new CheckTaskResult { JobId = "twice", TaskType = TaskTypes.HdColourMigration };

        await service.Send(command);
        await service.Send(command);
        await service.WaitFor<TaskSucceeded>("twice");
        await service.UntilQuiet();

        var succeeded = service.Events<TaskSucceeded>("twice");
        Assert.Equal(2, succeeded.Count);
        Assert.All(succeeded, s => Assert.Equal(["https://files.example/twice.png"], s.ResultUrls));
        Assert.Empty(service.Events<TaskFailed>("twice"));
    }
}
