namespace TaskResults.Contracts;

/// <summary>Where the TaskResults service listens, for senders that use MassTransit.</summary>
public static class TaskResultsEndpoints
{
    /// <summary>The service's command queue (a quorum queue since the cluster release), and the exchange in front of it.</summary>
    public const string CommandQueue = "check-task-result";

    /// <summary>
    /// Where to send <see cref="CheckTaskResult"/>: <c>exchange:check-task-result</c>, the exchange bound
    /// to the service's queue. Send here rather than to <c>queue:check-task-result</c>: a MassTransit
    /// sender declares a <c>queue:</c> address as a classic queue with default arguments, which the
    /// broker refuses once the service has declared it as a replicated quorum queue.
    /// </summary>
    public static Uri CheckTaskResult { get; } = new("exchange:" + CommandQueue);

    /// <summary>The service's queue for <see cref="GetTaskStatus"/> and <see cref="CancelTaskResult"/> (a quorum queue, like the command queue).</summary>
    public const string ControlQueue = "task-results-control";

    /// <summary>Where to send <see cref="GetTaskStatus"/> and <see cref="CancelTaskResult"/>: <c>exchange:task-results-control</c>, for the reason given at <see cref="CheckTaskResult"/>.</summary>
    public static Uri Control { get; } = new("exchange:" + ControlQueue);

    /// <summary>The service's queue for <see cref="ArchiveTaskResults"/>, when archiving is on (a quorum queue).</summary>
    public const string ArchiveQueue = "archive-task-results";

    /// <summary>Where <see cref="ArchiveTaskResults"/> goes: <c>exchange:archive-task-results</c>.</summary>
    public static Uri Archive { get; } = new("exchange:" + ArchiveQueue);
}
