using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TaskResults.Service.Registry;
using TaskResults.Service.Scheduling;

namespace TaskResults.Tests.Registry;

/// <summary>
/// A write the service takes for failed may have landed (Redis answered after the client's timeout).
/// The service then goes on as without a registry; the chain must survive what was written anyway:
/// the job is neither dropped as a duplicate of itself nor as a fork of its own chain.
/// </summary>
public sealed class When_a_registry_write_lands_but_times_out
{
    private static readonly JobKey Job = new(TaskTypes.HdColourMigration, "landed");
    private readonly RegistryStores _stores = new();
    private readonly LandingButFailingStore _store;
    private readonly JobChains _chains;

    public When_a_registry_write_lands_but_times_out()
    {
        _store = new LandingButFailingStore(new InMemoryJobStore(_stores.Clock));
        _chains = new JobChains(Options.Create(new RegistryOptions { Store = RegistryStore.InMemory }), _stores.Clock, NullLogger<JobChains>.Instance, _store);
    }

    private DateTimeOffset Now => _stores.Clock.GetUtcNow();

    private CheckProgress Delivery(ChainLink? link = null, int attempt = 1) => _stores.Delivery(link, attempt);

    private PendingCheck Pending(int attempts) => _stores.Pending(attempts);

    [Fact]
    public async Task Should_go_on_with_a_chain_whose_start_was_written()
    {
        _store.FailAfterWriting = true;
        var first = Assert.IsType<ChainStep.Check>(await _chains.BeginAsync(Job, Delivery(), RegistryStores.NewSender(), Now, default));
        Assert.False(first.Link!.Recorded);

        _store.FailAfterWriting = false;
        var (continues, step2) = await _chains.AdvanceAsync(Job, first.Link, Pending(1), default);
        Assert.True(continues);
        Assert.IsType<ChainStep.Check>(await _chains.BeginAsync(Job, Delivery(step2, 2), RegistryStores.NewSender(), Now, default));
    }

    [Fact]
    public async Task Should_go_on_with_a_chain_whose_start_was_written_and_whose_next_step_could_not_be()
    {
        // The start lands but its answer is lost; the next step cannot reach the registry at all (a second of skipping it).
        _store.FailAfterWriting = true;
        var first = Assert.IsType<ChainStep.Check>(await _chains.BeginAsync(Job, Delivery(), RegistryStores.NewSender(), Now, default));
        _store.FailAfterWriting = false;
        _store.Unreachable = true;
        var (_, step2) = await _chains.AdvanceAsync(Job, first.Link, Pending(1), default);
        _store.Unreachable = false;

        // The registry holds the start, live: step 2 descends from it, it is not a second chain of the job.
        var check = Assert.IsType<ChainStep.Check>(await _chains.BeginAsync(Job, Delivery(step2, 2), RegistryStores.NewSender(), Now, default));
        Assert.True(await _chains.FinishAsync(Job, check.Link, new JobEnd(new TaskSucceeded { JobId = Job.JobId }, null), 2, default));
    }

    [Fact]
    public async Task Should_let_a_step_taken_without_the_registry_take_over_a_chain_that_died()
    {
        // The registry holds another chain of the job; this one was started and went on while it was away.
        await _chains.BeginAsync(Job, Delivery(), RegistryStores.NewSender(), Now, default);
        _store.Unreachable = true;
        var during = ((ChainStep.Check)await _chains.BeginAsync(Job, Delivery(new ChainLink(ChainLink.NewToken(), ChainLink.NewToken())), RegistryStores.NewSender(), Now, default)).Link!;
        var (_, step2) = await _chains.AdvanceAsync(Job, during, Pending(1), default);
        _store.Unreachable = false;

        Assert.IsType<ChainStep.Stale>(await _chains.BeginAsync(Job, Delivery(step2, 2), RegistryStores.NewSender(), Now, default));
        // Once the other chain has died (its command dead-lettered, say), this step is the job's only one.
        _stores.Clock.Advance(TimeSpan.FromMinutes(11));
        Assert.IsType<ChainStep.Check>(await _chains.BeginAsync(Job, Delivery(step2, 2), RegistryStores.NewSender(), Now, default));
    }

    [Fact]
    public async Task Should_go_on_with_a_step_whose_advance_was_written()
    {
        var step1 = ((ChainStep.Check)await _chains.BeginAsync(Job, Delivery(), RegistryStores.NewSender(), Now, default)).Link!;

        _store.FailAfterWriting = true;
        var (_, step2) = await _chains.AdvanceAsync(Job, step1, Pending(1), default);
        Assert.False(step2!.Recorded);

        _store.FailAfterWriting = false;
        var check = Assert.IsType<ChainStep.Check>(await _chains.BeginAsync(Job, Delivery(step2, 2), RegistryStores.NewSender(), Now, default));
        var (continues, step3) = await _chains.AdvanceAsync(Job, check.Link, Pending(2), default);
        Assert.True(continues);
        Assert.IsType<ChainStep.Check>(await _chains.BeginAsync(Job, Delivery(step3, 3), RegistryStores.NewSender(), Now, default));
    }

    [Fact]
    public async Task Should_go_on_with_a_chain_whose_adoption_was_written()
    {
        var step1 = ((ChainStep.Check)await _chains.BeginAsync(Job, Delivery(), RegistryStores.NewSender(), Now, default)).Link!;
        var (_, step2) = await _chains.AdvanceAsync(Job, step1, Pending(1), default);

        // Step 2 taken without the registry; step 3's start adopts it, but the answer is lost, so step 3 goes on unrecorded too.
        _store.Unreachable = true;
        var during = ((ChainStep.Check)await _chains.BeginAsync(Job, Delivery(step2, 2), RegistryStores.NewSender(), Now, default)).Link!;
        var (_, step3) = await _chains.AdvanceAsync(Job, during, Pending(2), default);
        _store.Unreachable = false;
        _store.FailAfterWriting = true;
        var adopted = ((ChainStep.Check)await _chains.BeginAsync(Job, Delivery(step3, 3), RegistryStores.NewSender(), Now, default)).Link!;
        var (_, step4) = await _chains.AdvanceAsync(Job, adopted, Pending(3), default);

        _store.FailAfterWriting = false;
        Assert.IsType<ChainStep.Check>(await _chains.BeginAsync(Job, Delivery(step4, 4), RegistryStores.NewSender(), Now, default));
    }

    // Applies every write, then (when told) throws as if the answer had timed out; or cannot be reached at all.
    private sealed class LandingButFailingStore(IJobStore inner) : IJobStore
    {
        public bool FailAfterWriting { get; set; }

        public bool Unreachable { get; set; }

        public async Task<(T Result, StoredRecord Stored)> UpdateAsync<T>(JobKey job, Func<JobRecord?, Decision<T>> decide, StoredRecord? seen,
            CancellationToken cancellationToken)
        {
            if (Unreachable) throw new RegistryUnavailableException("unreachable");
            var result = await inner.UpdateAsync(job, decide, seen, cancellationToken);
            if (FailAfterWriting) throw new RegistryUnavailableException("the answer timed out");
            return result;
        }

        public Task<JobRecord?> GetAsync(JobKey job, CancellationToken cancellationToken) => inner.GetAsync(job, cancellationToken);

        public Task<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken) => inner.ListAsync(query, cancellationToken);
    }
}
