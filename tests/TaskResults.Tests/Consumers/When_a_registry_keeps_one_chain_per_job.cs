using MassTransit.Testing;
using TaskResults.Service.Scheduling;

namespace TaskResults.Tests.Consumers;

/// <summary>
/// With a job registry (here Registry:Store=InMemory) a job has one chain of checks: a finished job
/// answers a late sender without a call, and a delivery that is not the chain's current step checks
/// nothing (a command sent twice: When_the_same_command_is_sent_twice).
/// </summary>
public sealed class When_a_registry_keeps_one_chain_per_job
{
    private static Task<ServiceHarness> Start() => ServiceHarness.WithRegistryAsync();

    [Fact]
    public async Task Should_answer_a_late_sender_with_the_same_event_and_no_call()
    {
        await using var service = await Start();
        service.Api.Script("late", FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/late.png"]));
        var command = new CheckTaskResult { JobId = "late", TaskType = TaskTypes.HdColourMigration };
        await service.Send(command);
        var first = (await service.WaitFor<TaskSucceeded>("late")).Context.Message;

        var lateCorrelation = Guid.NewGuid();
        await service.Send(command, context => context.CorrelationId = lateCorrelation);
        var again = await service.Harness.Published.SelectAsync<TaskSucceeded>(m => m.Context.CorrelationId == lateCorrelation).FirstOrDefault<IPublishedMessage<TaskSucceeded>>();

        Assert.NotNull(again);
        Assert.Equal(first.ResultUrls, again.Context.Message.ResultUrls);
        Assert.Equal(first.ResultsExpireAt, again.Context.Message.ResultsExpireAt);
        Assert.Equal(1, service.Api.CallsFor("late"));
    }

    [Fact]
    public async Task Should_drop_a_delivery_that_is_not_the_chains_current_step_without_a_call()
    {
        await using var service = await Start();
        service.Api.Script("forked", FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/forked.png"));
        var command = new CheckTaskResult { JobId = "forked", TaskType = TaskTypes.HdColourMigration };
        await service.Send(command);
        await service.WaitFor<TaskPending>("forked");

        // A rescheduled command of some other step of this job (as a crash leaves behind).
        await service.Send(command, context =>
        {
            context.Headers.Set(CheckProgress.AttemptHeader, "1");
            context.Headers.Set(CheckProgress.ChainHeader, Guid.NewGuid().ToString("N"));
        });
        await service.WaitFor<TaskSucceeded>("forked");
        await service.UntilQuiet();

        Assert.Equal(2, service.Api.CallsFor("forked"));
        Assert.Single(service.Events<TaskSucceeded>("forked"));
    }

    [Fact]
    public async Task Should_take_a_chain_header_that_no_registry_wrote_for_none()
    {
        await using var service = await Start();
        service.Api.Script("huge-chain", FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/huge-chain.png"));

        // Not a token's shape (a megabyte, not letters and digits): the command is a sender's, checked once.
        await service.Send(new CheckTaskResult { JobId = "huge-chain", TaskType = TaskTypes.HdColourMigration },
            context => context.Headers.Set(CheckProgress.ChainHeader, new string('x', 1_000_000) + "-"));

        await service.WaitFor<TaskSucceeded>("huge-chain");
        Assert.Equal(1, service.Api.CallsFor("huge-chain"));
    }
}
