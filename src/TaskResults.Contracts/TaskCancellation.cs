namespace TaskResults.Contracts;

/// <summary>Response to <see cref="CancelTaskResult"/>: what the cancel did, and the job's status after it.</summary>
public record TaskCancellation
{
    public string JobId { get; init; } = "";
    public string TaskType { get; init; } = "";

    /// <summary>One of <see cref="CancelOutcomes"/>.</summary>
    public string Outcome { get; init; } = "";

    public TaskStatus Status { get; init; } = new();
}

/// <summary>The values of <see cref="TaskCancellation.Outcome"/> (wire values).</summary>
public static class CancelOutcomes
{
    /// <summary>The job was pending: it is cancelled now, and its <see cref="TaskFailed"/> published.</summary>
    public const string Cancelled = "Cancelled";

    /// <summary>Cancelled before: nothing changed (its <see cref="TaskFailed"/> is published again: events are at least once).</summary>
    public const string AlreadyCancelled = "AlreadyCancelled";

    /// <summary>The job had succeeded or failed: nothing changed.</summary>
    public const string AlreadyFinished = "AlreadyFinished";

    /// <summary>The registry does not know the job (never seen, or forgotten after the retention): nothing changed.</summary>
    public const string Unknown = "Unknown";

    /// <summary>No registry (<c>Registry:Store=None</c>), or it cannot be reached: nothing changed.</summary>
    public const string NotAvailable = "NotAvailable";
}
