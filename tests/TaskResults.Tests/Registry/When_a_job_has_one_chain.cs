using TaskResults.Service.Registry;

namespace TaskResults.Tests.Registry;

/// <summary>
/// One chain of checks per job (issue 13): a duplicate command starts nothing, a fork left by a crash
/// is dropped without a call, a late sender gets the terminal event again. The same rules over the
/// in-memory store and over a real Redis.
/// </summary>
public sealed class When_a_job_has_one_chain(RedisServer redis) : IClassFixture<RedisServer>
{
    private readonly RegistryStores _stores = new(redis);
    private static readonly JobKey Job = new(TaskTypes.HdColourMigration, "job-1");

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_start_nothing_for_a_second_command_while_the_chain_is_live(RegistryStore store)
    {
        var chains = _stores.Chains(store);

        var first = Assert.IsType<ChainStep.Check>(await chains.BeginAsync(Job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
        Assert.NotNull(first.Link);
        Assert.IsType<ChainStep.Duplicate>(await chains.BeginAsync(Job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));

        // Rescheduled, and the command comes again while the job waits: still one chain.
        var (continues, next) = await chains.AdvanceAsync(Job, first.Link, _stores.Pending(), default);
        Assert.True(continues);
        _stores.Clock.Advance(TimeSpan.FromSeconds(3));
        Assert.IsType<ChainStep.Duplicate>(await chains.BeginAsync(Job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
        Assert.IsType<ChainStep.Check>(await chains.BeginAsync(Job, _stores.Delivery(next), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_keep_one_chain_when_a_step_is_delivered_again_after_a_crash(RegistryStore store)
    {
        var chains = _stores.Chains(store);
        var step1 = ((ChainStep.Check)await chains.BeginAsync(Job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default)).Link!;

        // Step 1 rescheduled (step 2 is in a wait queue), then its instance died before the ack: step 1 comes again.
        var (_, step2) = await chains.AdvanceAsync(Job, step1, _stores.Pending(), default);
        var again = Assert.IsType<ChainStep.Check>(await chains.BeginAsync(Job, _stores.Delivery(step1), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
        var (continues, step2Again) = await chains.AdvanceAsync(Job, again.Link, _stores.Pending(), default);
        Assert.True(continues);

        // The step the crashed delivery had sent is a fork now: dropped without a call. The new one goes on.
        Assert.IsType<ChainStep.Stale>(await chains.BeginAsync(Job, _stores.Delivery(step2, 2), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
        Assert.IsType<ChainStep.Check>(await chains.BeginAsync(Job, _stores.Delivery(step2Again, 2), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_check_the_senders_command_delivered_again_and_drop_the_step_it_had_sent(RegistryStore store)
    {
        var chains = _stores.Chains(store);
        var command = RegistryStores.NewSender();
        var step1 = ((ChainStep.Check)await chains.BeginAsync(Job, _stores.Delivery(), command, _stores.Clock.GetUtcNow(), default)).Link!;

        // Its instance died after rescheduling, before the ack: the same command (same MessageId) comes again.
        var (_, sent) = await chains.AdvanceAsync(Job, step1, _stores.Pending(), default);
        Assert.IsType<ChainStep.Duplicate>(await chains.BeginAsync(Job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
        var again = Assert.IsType<ChainStep.Check>(await chains.BeginAsync(Job, _stores.Delivery(), command with { Redelivered = true }, _stores.Clock.GetUtcNow(), default));
        var (_, step2) = await chains.AdvanceAsync(Job, again.Link, _stores.Pending(), default);

        Assert.IsType<ChainStep.Stale>(await chains.BeginAsync(Job, _stores.Delivery(sent, 2), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
        Assert.IsType<ChainStep.Check>(await chains.BeginAsync(Job, _stores.Delivery(step2, 2), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
        // Once the chain has moved on two steps past it, the old command is no step of it any more.
        await chains.AdvanceAsync(Job, step2, _stores.Pending(2), default);
        Assert.IsType<ChainStep.Stale>(await chains.BeginAsync(Job, _stores.Delivery(), command with { Redelivered = true }, _stores.Clock.GetUtcNow(), default));
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_let_only_one_of_two_racing_deliveries_go_on(RegistryStore store)
    {
        var chains = _stores.Chains(store);
        var step1 = ((ChainStep.Check)await chains.BeginAsync(Job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default)).Link!;

        // The same step checked twice at once (redelivered while the first instance still worked on it).
        var advances = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => chains.AdvanceAsync(Job, step1, _stores.Pending(), default)));
        // Each may reschedule, but only the last one written is the chain: the others' steps are forks.
        var steps = await Task.WhenAll(advances.Select(a => chains.BeginAsync(Job, _stores.Delivery(a.Next, 2), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default)));
        Assert.Single(steps, s => s is ChainStep.Check);
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_start_one_chain_for_many_commands_at_once(RegistryStore store)
    {
        var chains = _stores.Chains(store);
        var steps = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => chains.BeginAsync(Job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default)));
        Assert.Single(steps, s => s is ChainStep.Check);
        Assert.Equal(19, steps.Count(s => s is ChainStep.Duplicate));
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_answer_a_late_sender_with_the_terminal_event_and_refuse_a_fork(RegistryStore store)
    {
        var chains = _stores.Chains(store);
        var step1 = ((ChainStep.Check)await chains.BeginAsync(Job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default)).Link!;
        var (_, step2) = await chains.AdvanceAsync(Job, step1, _stores.Pending(), default);
        var succeeded = new TaskSucceeded { JobId = Job.JobId, TaskType = Job.TaskType, ResultUrls = ["https://files.example/1.png"], Attempts = 2 };
        Assert.True(await chains.FinishAsync(Job, step2, new JobEnd(succeeded, null), 2, default));

        var replay = Assert.IsType<ChainStep.Finished>(await chains.BeginAsync(Job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
        Assert.Equal(succeeded.ResultUrls, replay.End.Succeeded!.ResultUrls);
        Assert.Equal(2, replay.End.Succeeded.Attempts);

        // A fork of the finished chain checks nothing and publishes nothing.
        Assert.IsType<ChainStep.Stale>(await chains.BeginAsync(Job, _stores.Delivery(new ChainLink(ChainLink.NewToken()), 3), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
        Assert.False(await chains.FinishAsync(Job, new ChainLink(ChainLink.NewToken()), new JobEnd(null, new TaskFailed { JobId = Job.JobId }), 3, default));
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_forget_a_finished_job_after_the_retention(RegistryStore store)
    {
        var chains = _stores.Chains(store, options => options.Retention = TimeSpan.FromSeconds(1));
        var step1 = ((ChainStep.Check)await chains.BeginAsync(Job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default)).Link!;
        Assert.True(await chains.FinishAsync(Job, step1, new JobEnd(null, new TaskFailed { JobId = Job.JobId, Reason = FailureReasons.ApiError }), 1, default));

        _stores.Clock.Advance(TimeSpan.FromSeconds(2));
        await WaitUntilForgotten(chains);
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_let_a_command_take_over_a_chain_that_died(RegistryStore store)
    {
        var chains = _stores.Chains(store, options => options.ChainTimeout = TimeSpan.FromMinutes(1));
        var step1 = ((ChainStep.Check)await chains.BeginAsync(Job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default)).Link!;
        var (_, step2) = await chains.AdvanceAsync(Job, step1, _stores.Pending(), default);

        // Step 2 never comes (its command dead-lettered): a minute after its check was due, a new command takes over.
        _stores.Clock.Advance(TimeSpan.FromSeconds(5 + 61));
        var takeover = Assert.IsType<ChainStep.Check>(await chains.BeginAsync(Job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
        Assert.NotEqual(step2!.Token, takeover.Link!.Token);
        Assert.IsType<ChainStep.Stale>(await chains.BeginAsync(Job, _stores.Delivery(step2, 2), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
    }

    // The in-memory store forgets by the fake clock at once; Redis by its own within a second or two.
    private async Task WaitUntilForgotten(JobChains chains)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (await chains.BeginAsync(Job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default) is ChainStep.Finished)
        {
            Assert.True(DateTime.UtcNow < until, "The finished job was still remembered 20 s after its retention.");
            await Task.Delay(100);
        }
    }
}
