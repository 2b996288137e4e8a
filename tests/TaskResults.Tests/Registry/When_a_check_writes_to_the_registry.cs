using TaskResults.Service.Registry;

namespace TaskResults.Tests.Registry;

/// <summary>
/// What the registry costs a check in Redis (issue 13: under 20 % of throughput): each step of a
/// chain is one round trip. A sender's command is written on the guess that its job is new, and a
/// check's answer on the record its start saw; only a guess that turns out wrong costs another.
/// </summary>
public sealed class When_a_check_writes_to_the_registry(RedisServer redis) : IClassFixture<RedisServer>
{
    private readonly RegistryStores _stores = new(redis);

    private DateTimeOffset Now => _stores.Clock.GetUtcNow();

    [Fact]
    public async Task Should_cost_one_round_trip_to_Redis_per_step_a_check_takes()
    {
        var job = new JobKey(TaskTypes.HdColourMigration, "one-trip");
        var chains = _stores.Chains(RegistryStore.Redis, out var connection);
        var calls = Counter(connection!);

        // A new job's check that reschedules: its start, and its hand-over to the next step.
        var step1 = Assert.IsType<ChainStep.Check>(await chains.BeginAsync(job, _stores.Delivery(), RegistryStores.NewSender(), Now, default)).Link!;
        Assert.Equal(1, calls());
        var (continues, step2) = await chains.AdvanceAsync(job, step1, _stores.Pending(), default);
        Assert.True(continues);
        Assert.Equal(2, calls());

        // The rescheduled check that ends the job: its start reads, its end writes on what the start read.
        var check = Assert.IsType<ChainStep.Check>(await chains.BeginAsync(job, _stores.Delivery(step2, 2), RegistryStores.NewSender(), Now, default));
        Assert.Equal(3, calls());
        Assert.True(await chains.FinishAsync(job, check.Link, new JobEnd(new TaskSucceeded { JobId = job.JobId }, null), 2, default));
        Assert.Equal(4, calls());
        Assert.Equal(JobState.Succeeded, (await chains.BeginAsync(job, _stores.Delivery(), RegistryStores.NewSender(), Now, default)) switch
        {
            ChainStep.Finished finished => finished.End.State,
            var other => throw new Xunit.Sdk.XunitException($"Expected the finished job's event again, got {other}"),
        });
    }

    [Fact]
    public async Task Should_decide_again_on_the_record_when_another_step_wrote_since_the_start_saw_it()
    {
        var job = new JobKey(TaskTypes.HdColourMigration, "overtaken");
        var chains = _stores.Chains(RegistryStore.Redis, out var connection);
        var step1 = ((ChainStep.Check)await chains.BeginAsync(job, _stores.Delivery(), RegistryStores.NewSender(), Now, default)).Link!;

        // Step 1 delivered again (its instance died before the ack) and rescheduled by the new delivery first.
        var again = ((ChainStep.Check)await chains.BeginAsync(job, _stores.Delivery(step1), RegistryStores.NewSender(), Now, default)).Link!;
        var (_, ahead) = await chains.AdvanceAsync(job, again, _stores.Pending(), default);

        // The first delivery's answer comes last, on a record that has changed: one write that misses, one decision on
        // what it brought back (step 1 is the previous step now: it takes the chain over), one write that lands.
        var calls = Counter(connection!);
        var (continues, late) = await chains.AdvanceAsync(job, step1, _stores.Pending(), default);
        Assert.True(continues);
        Assert.Equal(2, calls());
        Assert.IsType<ChainStep.Stale>(await chains.BeginAsync(job, _stores.Delivery(ahead, 2), RegistryStores.NewSender(), Now, default));
        Assert.IsType<ChainStep.Check>(await chains.BeginAsync(job, _stores.Delivery(late, 2), RegistryStores.NewSender(), Now, default));
    }

    [Fact]
    public async Task Should_start_nothing_for_a_duplicate_though_it_was_guessed_new()
    {
        var job = new JobKey(TaskTypes.HdColourMigration, "guessed-new");
        var chains = _stores.Chains(RegistryStore.Redis, out var connection);
        await chains.BeginAsync(job, _stores.Delivery(), RegistryStores.NewSender(), Now, default);

        var calls = Counter(connection!);
        Assert.IsType<ChainStep.Duplicate>(await chains.BeginAsync(job, _stores.Delivery(), RegistryStores.NewSender(), Now, default));
        Assert.Equal(1, calls());
    }

    // Calls made since the counter was taken.
    private static Func<long> Counter(RedisConnection connection)
    {
        var before = connection.Calls;
        return () => connection.Calls - before;
    }
}
