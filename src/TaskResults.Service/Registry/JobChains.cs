using System.Diagnostics;
using TaskResults.Contracts;
using Microsoft.Extensions.Options;
using TaskResults.Service.Scheduling;

namespace TaskResults.Service.Registry;

/// <summary>
/// One chain of checks per job (<see cref="ChainRules"/>), through the configured store. Without a
/// store every delivery is checked, as before the registry. When the store cannot be reached the
/// checks go on without it (at-least-once, as without a registry): steps taken meanwhile carry the
/// last token the registry knew, so their chain is recognised when it answers again. Each outage
/// is logged once when it starts and once when it ends, and health says Degraded while it lasts.
/// </summary>
public sealed class JobChains(IOptions<RegistryOptions> options, TimeProvider clock, ILogger<JobChains> logger, IJobStore? store = null)
{
    // Without a registry every answer is the same: no allocation per check.
    private static readonly Task<ChainStep> CheckWithoutRegistry = Task.FromResult<ChainStep>(new ChainStep.Check(null));
    private static readonly Task<(bool, ChainLink?)> ContinueWithoutRegistry = Task.FromResult<(bool, ChainLink?)>((true, null));
    private static readonly Task<bool> Publish = Task.FromResult(true);

    private readonly RegistryOptions _options = options.Value;
    private int _unavailable;

    /// <summary>Whether chains are kept (a store is configured).</summary>
    public bool Enabled => store is not null;

    /// <summary>The store could not be reached at the last try.</summary>
    public bool Unavailable => Volatile.Read(ref _unavailable) == 1;

    /// <summary>What this delivery does: check, start nothing (a duplicate or a fork), or send the finished job's event again.</summary>
    public Task<ChainStep> BeginAsync(JobKey job, CheckProgress progress, SenderCommand command, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (store is null) return CheckWithoutRegistry;
        var link = progress.Chain;
        var newToken = ChainLink.NewToken();
        // The job's trace: every check of a job is in the trace its first check started.
        var traceId = Activity.Current is { } activity ? activity.TraceId.ToHexString() : null;
        return Guarded(
            async () =>
            {
                // A sender's command is written on the guess that its job is new (one round trip); a step's delivery reads first.
                var (step, stored) = await store.UpdateAsync(job, record => ChainRules.Begin(record, link, command, newToken, progress, now, _options, traceId),
                    link is null ? StoredRecord.Absent : null, cancellationToken);
                return step is ChainStep.Check { Link: { } held } ? new ChainStep.Check(held with { Seen = stored }) : step;
            },
            // Without the registry: check, and remember the last token it knew ("" for a new chain).
            () => new ChainStep.Check(new ChainLink(link?.Token ?? newToken, link is null ? "" : link.Since ?? link.Token)));
    }

    /// <summary>
    /// The job goes on after <paramref name="check"/>: the link the rescheduled command carries, or
    /// <c>Continues = false</c> when another delivery holds the chain (this one then sends nothing).
    /// </summary>
    public Task<(bool Continues, ChainLink? Next)> AdvanceAsync(JobKey job, ChainLink? link, PendingCheck check, CancellationToken cancellationToken)
    {
        if (store is null || link is null) return ContinueWithoutRegistry;
        var next = ChainLink.NewToken();
        var now = clock.GetUtcNow();
        return Guarded<(bool, ChainLink?)>(
            async () => (await store.UpdateAsync(job, record => ChainRules.Advance(record, link, next, check, now, _options), link.Seen, cancellationToken)).Result
                ? (true, new ChainLink(next))
                : (false, null),
            // Without the registry: the next step descends from the last token it may know, this step's own when it
            // was unrecorded from its start (its start may have been written though the answer was lost).
            () => (true, new ChainLink(next, string.IsNullOrEmpty(link.Since) ? link.Token : link.Since)));
    }

    /// <summary>The job ended with <paramref name="end"/>: true when this delivery publishes it (false: another delivery holds the chain).</summary>
    public Task<bool> FinishAsync(JobKey job, ChainLink? link, JobEnd end, int attempts, CancellationToken cancellationToken)
    {
        if (store is null || link is null) return Publish;
        var now = clock.GetUtcNow();
        return Guarded(async () => (await store.UpdateAsync(job, record => ChainRules.Finish(record, link, end, attempts, now, _options), link.Seen, cancellationToken)).Result,
            () => true);
    }

    /// <summary>
    /// Stops the job (<see cref="ChainRules.Cancel"/>): what it did, and the job's record after it (its terminal event
    /// to publish when cancelled). Null when there is no registry or it cannot be reached: nothing was changed.
    /// </summary>
    public async Task<(CancelOutcome Outcome, JobRecord? Record)?> CancelAsync(JobKey job, TaskFailed cancelled, CancellationToken cancellationToken)
    {
        if (store is null) return null;
        var now = clock.GetUtcNow();
        return await Guarded<(CancelOutcome, JobRecord?)?>(
            async () =>
            {
                var (outcome, stored) = await store.UpdateAsync(job, record => ChainRules.Cancel(record, cancelled, now, _options), null, cancellationToken);
                return (outcome, stored.Record);
            },
            () => null);
    }

    /// <summary>The job's record (null: unknown, or forgotten after the retention); Available is false without a registry, or when it cannot be reached.</summary>
    public async Task<(bool Available, JobRecord? Record)> StatusAsync(JobKey job, CancellationToken cancellationToken)
    {
        if (store is null) return (false, null);
        return await Guarded(async () => (true, await store.GetAsync(job, cancellationToken)), () => (false, (JobRecord?)null));
    }

    /// <summary>One page of the jobs <paramref name="query"/> names; Available is false without a registry, or when it cannot be reached.</summary>
    public async Task<(bool Available, JobPage Page)> ListAsync(JobQuery query, CancellationToken cancellationToken)
    {
        if (store is null) return (false, NoJobs);
        return await Guarded(async () => (true, await store.ListAsync(query, cancellationToken)), () => (false, NoJobs));
    }

    private static readonly JobPage NoJobs = new([], null);

    private async Task<T> Guarded<T>(Func<Task<T>> call, Func<T> withoutRegistry)
    {
        try
        {
            var result = await call();
            if (Interlocked.Exchange(ref _unavailable, 0) == 1) logger.LogWarning("The job registry ({Store}) answers again: one chain per job again", _options.Store);
            return result;
        }
        catch (RegistryUnavailableException exception)
        {
            if (Interlocked.Exchange(ref _unavailable, 1) == 0)
            {
                logger.LogError("The job registry ({Store}) cannot be reached: checking without it (a duplicate command may start a second chain) until it answers again. {Problem}",
                    _options.Store, exception.Message);
            }

            return withoutRegistry();
        }
    }
}
