using System.ComponentModel.DataAnnotations;
using TaskResults.Service.Broker;

namespace TaskResults.Service.Options;

/// <summary>Which bus to run on. Section <c>MessageBus</c>; the broker itself is <c>ConnectionStrings:RabbitMq</c>.</summary>
public sealed class MessageBusOptions : IValidatableObject
{
    public const string Section = "MessageBus";

    public BusTransport Transport { get; set; } = BusTransport.RabbitMq;

    /// <summary>How RabbitMQ holds a job between checks. The in-memory bus always uses its own delays.</summary>
    public RecheckDelivery Rescheduling { get; set; } = RecheckDelivery.WaitQueues;

    /// <summary>How many checks one instance runs at once.</summary>
    [Range(1, 1000)]
    public int ConcurrentMessageLimit { get; set; } = 16;

    /// <summary>
    /// The broker: <c>amqp://user:password@host:port/vhost</c>, or a cluster's nodes as
    /// <c>amqp://user:password@host1:5672,host2:5672,host3:5672/vhost</c>; bound from <c>ConnectionStrings:RabbitMq</c>.
    /// </summary>
    public string? RabbitMq { get; set; }

    /// <summary>What kind of queue <c>check-task-result</c> is: replicated (quorum, the default) or a single node's (classic).</summary>
    public CommandQueueType CommandQueue { get; set; } = CommandQueueType.Quorum;

    /// <summary>
    /// How long the instance may go without consuming <c>check-task-result</c> while the broker is
    /// reachable before it gives up and exits (non-zero) for its supervisor to restart it. It
    /// restarts its bus connection itself first, a few seconds after the broker is back.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan ConsumerRecoveryTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long stopping the service waits for checks in flight before abandoning them (their
    /// commands go back to the queue, unacknowledged, and another instance checks them).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The broker's nodes; null when <see cref="RabbitMq"/> cannot be read (validation says why).</summary>
    public RabbitMqNodes? Nodes => RabbitMqNodes.TryParse(RabbitMq, out _);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Transport == BusTransport.RabbitMq && RabbitMqNodes.TryParse(RabbitMq, out var problem) is null)
        {
            yield return new(problem!, [nameof(RabbitMq)]);
        }
    }

    /// <summary>The broker's nodes without user or password, for logs.</summary>
    public string RabbitMqForLogs => Nodes?.ToString() ?? "(not set)";
}

public enum CommandQueueType
{
    /// <summary>A quorum queue: replicated over the cluster's nodes, survives the loss of a minority of them (the default).</summary>
    Quorum,

    /// <summary>A classic queue, as TaskResults declared it before: lives on one node. For brokers not yet migrated, and for comparison.</summary>
    Classic,
}

public enum BusTransport
{
    /// <summary>RabbitMQ at <c>ConnectionStrings:RabbitMq</c> (the default).</summary>
    RabbitMq,

    /// <summary>MassTransit's in-process bus: tests and local runs; messages do not survive a restart.</summary>
    InMemory,
}

public enum RecheckDelivery
{
    /// <summary>Per-delay TTL queues that dead-letter back to the check queue: needs no broker plugin (the default).</summary>
    WaitQueues,

    /// <summary>MassTransit's delayed redelivery: needs the rabbitmq_delayed_message_exchange plugin.</summary>
    DelayedExchangePlugin,
}
