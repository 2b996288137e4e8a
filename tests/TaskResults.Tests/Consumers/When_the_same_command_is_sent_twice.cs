namespace TaskResults.Tests.Consumers;

public sealed class When_the_same_command_is_sent_twice
{
    [Theory]
    // Without a registry each command is a chain of its own: both get the answer, each at its own cost (the two chains share one script, so the calls vary).
    [InlineData("None", 2, null)]
    // With one, the copy starts nothing: the calls and the event of one send (issue 13).
    [InlineData("InMemory", 1, 3)]
    public async Task Should_answer_with_the_same_result(string registry, int expectedSucceeded, int? expectedCalls)
    {
        await using var service = await ServiceHarness.StartAsync(settings => settings["Registry:Store"] = registry);
        service.Api.Script("twice", FakeResponse.Status("QUEUING"), FakeResponse.Status("QUEUING"),
            FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/twice.png"]));
        var command = new CheckTaskResult { JobId = "twice", TaskType = TaskTypes.HdColourMigration };

        await service.Send(command);
        await service.Send(command);
        await service.WaitFor<TaskSucceeded>("twice");
        await service.UntilQuiet();

        var succeeded = service.Events<TaskSucceeded>("twice");
        Assert.Equal(expectedSucceeded, succeeded.Count);
        Assert.All(succeeded, s => Assert.Equal(["https://files.example/twice.png"], s.ResultUrls));
        Assert.Empty(service.Events<TaskFailed>("twice"));
        if (expectedCalls is { } calls) Assert.Equal(calls, service.Api.CallsFor("twice"));
    }
}
