using MassTransit;

namespace TaskResults.Tests.Consumers;

public sealed class When_the_command_is_published_instead_of_sent
{
    [Fact]
    public async Task Should_check_the_job_just_the_same()
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("job-published", FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/p.png"));
        var ids = MessageIds.New();

        await service.Harness.Bus.Publish(new CheckTaskResult { JobId = "job-published", TaskType = TaskTypes.GenerateCartoonizedImage }, publish => ids.ApplyTo(publish));

        var published = await service.WaitFor<TaskSucceeded>("job-published");
        Assert.Equal(["https://files.example/p.png"], published.Context.Message.ResultUrls);
        Assert.Equal(2, published.Context.Message.Attempts);
        ids.AssertCarriedBy(published.Context);
        Assert.Equal("QUEUING", Assert.Single(service.Events<TaskPending>("job-published")).Status);
    }
}
