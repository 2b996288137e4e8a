using System.ComponentModel.DataAnnotations;

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

    /// <summary>The broker, as an <c>amqp://user:password@host:port/vhost</c> URI; bound from <c>ConnectionStrings:RabbitMq</c>.</summary>
    public string? RabbitMq { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Transport == BusTransport.RabbitMq
            && !(Uri.TryCreate(RabbitMq, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps"))
        {
            yield return new("ConnectionStrings:RabbitMq must be an amqp:// or amqps:// URI (or set MessageBus:Transport to InMemory).", [nameof(RabbitMq)]);
        }
    }

    /// <summary>The broker's address without its password, for logs.</summary>
    public string RabbitMqForLogs => Uri.TryCreate(RabbitMq, UriKind.Absolute, out var uri)
        ? new UriBuilder(uri) { UserName = "", Password = "" }.Uri.ToString()
        : "(not set)";
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
