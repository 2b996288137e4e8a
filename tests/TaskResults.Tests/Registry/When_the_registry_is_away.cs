using Microsoft.Extensions.Logging;
using TaskResults.Service.Registry;

namespace TaskResults.Tests.Registry;

/// <summary>
/// Redis away: checks go on without the registry (at-least-once, as without one), one line says so
/// per outage, and when Redis answers again the chain carries on under the steps taken meanwhile.
/// A paused redis-server (SIGSTOP) stands for one that is down: calls time out after a second.
/// </summary>
public sealed class When_the_registry_is_away(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly RegistryStores _stores = new(redis);
    private readonly CapturingLoggerProvider _logs = new();
    private static readonly JobKey Job = new(TaskTypes.HdColourMigration, "away-1");

    public Task InitializeAsync() => Task.CompletedTask;

    // Never leave the shared server paused for the next spec, whatever happened.
    public Task DisposeAsync() => redis.ResumeAsync();

    private JobChains Chains() => _stores.Chains(RegistryStore.Redis, logger: LoggerFactory.Create(b => b.AddProvider(_logs)).CreateLogger<JobChains>());

    // After a resume the client reconnects within a moment: ask again (nothing is written without the registry) until it answers.
    private static async Task<T> Answered<T>(JobChains chains, Func<Task<T>> call)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var result = await call();
            if (!chains.Unavailable) return result;
            Assert.True(DateTime.UtcNow < until, "The registry did not answer within 30 s of Redis resuming.");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Should_check_meanwhile_and_carry_the_chain_on_when_it_answers_again()
    {
        var chains = Chains();
        var step1 = ((ChainStep.Check)await chains.BeginAsync(Job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default)).Link!;
        var (_, step2) = await chains.AdvanceAsync(Job, step1, _stores.Pending(), default);

        await redis.PauseAsync();
        var during = Assert.IsType<ChainStep.Check>(await chains.BeginAsync(Job, _stores.Delivery(step2, 2), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
        Assert.True(chains.Unavailable);
        Assert.Equal(step2!.Token, during.Link!.Since);
        var (continues, step3) = await chains.AdvanceAsync(Job, during.Link, _stores.Pending(2), default);
        Assert.True(continues);
        Assert.Equal(step2.Token, step3!.Since);

        await redis.ResumeAsync();
        var after = Assert.IsType<ChainStep.Check>(await Answered(chains, () => chains.BeginAsync(Job, _stores.Delivery(step3, 3), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default)));
        Assert.True(after.Link!.Recorded);
        Assert.False(chains.Unavailable);

        // Recorded again: a duplicate command starts nothing and, once the chain has moved on, the old step 2 is a fork.
        await chains.AdvanceAsync(Job, after.Link, _stores.Pending(3), default);
        Assert.IsType<ChainStep.Duplicate>(await chains.BeginAsync(Job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
        Assert.IsType<ChainStep.Stale>(await chains.BeginAsync(Job, _stores.Delivery(step2, 2), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));

        // One line when the outage began, one when it ended.
        Assert.Single(_logs.Lines, line => line.Level == LogLevel.Error && line.Message.Contains("cannot be reached"));
        Assert.Single(_logs.Lines, line => line.Level == LogLevel.Warning && line.Message.Contains("answers again"));
    }

    [Fact]
    public async Task Should_not_wait_for_Redis_on_every_check_while_it_is_away()
    {
        var chains = Chains();
        await chains.BeginAsync(Job with { JobId = "away-4" }, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default);

        await redis.PauseAsync();
        await chains.BeginAsync(Job with { JobId = "away-4" }, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default);
        Assert.True(chains.Unavailable);
        var next = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 10; i++) await chains.BeginAsync(Job with { JobId = $"away-4-{i}" }, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default);

        // The first call waited for its timeout (a second); the next ones skip Redis for a moment instead of ten more seconds.
        Assert.InRange(next.Elapsed, TimeSpan.Zero, TimeSpan.FromMilliseconds(900));
    }

    [Fact]
    public async Task Should_publish_the_end_of_a_job_that_finished_meanwhile()
    {
        var chains = Chains();
        var step1 = ((ChainStep.Check)await chains.BeginAsync(Job with { JobId = "away-2" }, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default)).Link!;

        await redis.PauseAsync();
        var (_, step2) = await chains.AdvanceAsync(Job with { JobId = "away-2" }, step1, _stores.Pending(), default);
        await redis.ResumeAsync();

        // Step 2 was taken without the registry; it ends the job once Redis answers again.
        Assert.True(await Answered(chains, () => chains.FinishAsync(Job with { JobId = "away-2" }, step2, new JobEnd(new TaskSucceeded { JobId = "away-2" }, null), 2, default)));
        Assert.IsType<ChainStep.Finished>(await chains.BeginAsync(Job with { JobId = "away-2" }, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
    }

    [Fact]
    public async Task Should_carry_the_chain_on_after_Redis_forgot_everything()
    {
        var chains = Chains();
        var job = Job with { JobId = "away-3" };
        var step1 = ((ChainStep.Check)await chains.BeginAsync(job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default)).Link!;
        var (_, step2) = await chains.AdvanceAsync(job, step1, _stores.Pending(), default);

        // A restart without persistence: the record is gone, the chain's next step is in a wait queue.
        await redis.PauseAsync();
        await redis.ResumeAsync(forgetEverything: true);

        Assert.IsType<ChainStep.Check>(await Answered(chains, () => chains.BeginAsync(job, _stores.Delivery(step2, 2), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default)));
        Assert.IsType<ChainStep.Duplicate>(await chains.BeginAsync(job, _stores.Delivery(), RegistryStores.NewSender(), _stores.Clock.GetUtcNow(), default));
    }
}
