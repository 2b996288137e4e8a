using TaskResults.Contracts;

namespace TaskResults.Service.Registry;

/// <summary>A job as the registry knows it: one per task type and job id.</summary>
public readonly record struct JobKey(string TaskType, string JobId);

public enum JobState
{
    Pending,
    Succeeded,
    Failed,

    /// <summary>Stopped by a <c>CancelTaskResult</c>: its <c>TaskFailed</c> (reason <c>CANCELLED</c>) is published, its chain ends at its next delivery.</summary>
    Cancelled,
}

/// <summary>A finished job's terminal event, kept so a late sender gets it again without a call.</summary>
public sealed record JobEnd(TaskSucceeded? Succeeded, TaskFailed? Failed)
{
    public JobState State => Succeeded is null ? JobState.Failed : JobState.Succeeded;
}

/// <summary>
/// What the registry holds of one job. <see cref="Chain"/> is the token of the chain's current
/// step: the rescheduled command that may check the job next carries it. Never the API key.
/// </summary>
public sealed record JobRecord
{
    public required JobState State { get; init; }

    public required string Chain { get; init; }

    /// <summary>The step before <see cref="Chain"/>: its delivery may come again (the broker redelivers it after a crash before its ack) and then takes the chain over.</summary>
    public string? PreviousChain { get; init; }

    /// <summary>The token of the chain's first step: the sender's command carries none, so when it is delivered again it stands for this one.</summary>
    public string? FirstChain { get; init; }

    /// <summary>The MessageId of the sender's command that started the chain: the same id again is a redelivery, another is a duplicate.</summary>
    public string? StartedBy { get; init; }

    /// <summary>Until when a command for this pending job starts nothing (its chain is live).</summary>
    public DateTimeOffset LiveUntil { get; init; }

    public int Attempts { get; init; }

    public string? LastStatus { get; init; }

    public DateTimeOffset? NextCheckAt { get; init; }

    public DateTimeOffset Deadline { get; init; }

    public DateTimeOffset FirstCheckAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The terminal event (finished jobs only).</summary>
    public JobEnd? End { get; init; }

    /// <summary>The job's trace, as its first check saw it (null when it ran untraced).</summary>
    public string? TraceId { get; init; }

    /// <summary>The latest checks, oldest first: at most <see cref="JobRecordChecks.Kept"/>.</summary>
    public IReadOnlyList<TaskCheck> Checks { get; init; } = [];

    /// <summary>When the store forgets the record: a pending job's deadline plus the retention, a finished job's end plus the retention.</summary>
    public DateTimeOffset ExpiresAt { get; init; }
}

/// <summary>A job's latest checks: enough to see what it has been doing, little enough to write with every check.</summary>
public static class JobRecordChecks
{
    public const int Kept = 10;

    /// <summary><paramref name="checks"/> and then <paramref name="check"/>, the oldest dropped beyond <see cref="Kept"/>.</summary>
    public static IReadOnlyList<TaskCheck> With(IReadOnlyList<TaskCheck>? checks, TaskCheck check)
    {
        checks ??= [];
        var skip = Math.Max(0, checks.Count + 1 - Kept);
        return [.. checks.Skip(skip), check];
    }

    /// <summary>The wire value of <paramref name="state"/> (<see cref="TaskStates"/>).</summary>
    public static string WireValue(JobState state) => state switch
    {
        JobState.Pending => TaskStates.Pending,
        JobState.Succeeded => TaskStates.Succeeded,
        JobState.Failed => TaskStates.Failed,
        _ => TaskStates.Cancelled,
    };
}

/// <summary>
/// The chain a delivery belongs to, read from its headers. <see cref="Since"/> is set when the step
/// was taken while the registry could not be reached: the last token the registry knew ("" for
/// none), so the chain can be recognised when the registry answers again.
/// </summary>
public sealed record ChainLink(string Token, string? Since = null)
{
    public bool Recorded => Since is null;

    /// <summary>
    /// The job's record as this delivery's start left it: the guess its answer is written on, so
    /// that write needs no read first. Only in this process, never in headers.
    /// </summary>
    public StoredRecord? Seen { get; init; }

    /// <summary>A new token: 128 random bits, nothing a sender could guess.</summary>
    public static string NewToken() => Guid.NewGuid().ToString("N");
}

/// <summary>What a delivery does, by the registry.</summary>
public abstract record ChainStep
{
    private ChainStep()
    {
    }

    /// <summary>Check the job; the delivery holds the chain as <see cref="Link"/> (null without a registry).</summary>
    public sealed record Check(ChainLink? Link) : ChainStep;

    /// <summary>A command for a job whose chain is live: it starts nothing.</summary>
    public sealed record Duplicate : ChainStep;

    /// <summary>A delivery that is not the chain's current step (a fork after a crash): dropped without a call.</summary>
    public sealed record Stale(string Current) : ChainStep;

    /// <summary>A command for a finished job within the retention: its terminal event again, without a call.</summary>
    public sealed record Finished(JobEnd End) : ChainStep;

    /// <summary>The next step of a cancelled job's chain: the chain ends here, without a call; the cancel's event goes again (events are at least once).</summary>
    public sealed record Cancelled(JobEnd End) : ChainStep;
}
