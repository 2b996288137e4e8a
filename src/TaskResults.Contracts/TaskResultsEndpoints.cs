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
}
