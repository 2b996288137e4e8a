using TaskResults.Service.Options;

namespace TaskResults.Service.Broker;

/// <summary>
/// The command queue <c>check-task-result</c> (public: other services send to it) and MassTransit's
/// two queues beside it, as the service declares them. See docs/topology.md.
/// </summary>
public static class CommandQueue
{
    public const string Name = "check-task-result";

    /// <summary>MassTransit's queue for commands that failed to be consumed, and this queue's dead letters.</summary>
    public const string ErrorQueue = Name + "_error";

    /// <summary>MassTransit's queue for messages of a type nothing here consumes.</summary>
    public const string SkippedQueue = Name + "_skipped";

    /// <summary>
    /// Deliveries of one command after which the broker gives up on it (a quorum queue counts them).
    /// Only a command whose check crashes or hangs the process comes back that often: anything a
    /// check can throw is retried in memory and then moved to <see cref="ErrorQueue"/> by
    /// MassTransit, and an instance lost mid-check returns at most its prefetch once. Twenty, the
    /// default of RabbitMQ 4, costs twenty crashes per poison command and never stops a healthy one.
    /// </summary>
    public const int DeliveryLimit = 20;

    /// <summary>The queues the service declares with the command queue's type, side queues first.</summary>
    public static IReadOnlyList<string> All { get; } = [ErrorQueue, SkippedQueue, Name];

    /// <summary>
    /// The arguments of <see cref="Name"/>: for a quorum queue, a delivery limit whose dead letters go
    /// to <see cref="ErrorQueue"/> at-least-once (kept in this queue until the error queue has
    /// them; at-least-once needs reject-publish overflow, which with no length limit refuses nothing).
    /// A classic queue gets none, as MassTransit declares it by default.
    /// </summary>
    public static Dictionary<string, object?> Arguments(CommandQueueType type) => type == CommandQueueType.Classic
        ? []
        : new()
        {
            ["x-queue-type"] = "quorum",
            ["x-delivery-limit"] = DeliveryLimit,
            ["x-dead-letter-exchange"] = ErrorQueue,
            ["x-dead-letter-strategy"] = "at-least-once",
            ["x-overflow"] = "reject-publish",
        };

    /// <summary>The arguments of the error and skipped queues: the same type, nothing else (they have no consumer to limit).</summary>
    public static Dictionary<string, object?> SideQueueArguments(CommandQueueType type) => type == CommandQueueType.Classic
        ? []
        : new() { ["x-queue-type"] = "quorum" };

    public static Dictionary<string, object?> ArgumentsOf(string queue, CommandQueueType type) =>
        queue == Name ? Arguments(type) : SideQueueArguments(type);
}
