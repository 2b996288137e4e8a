using System.Globalization;
using RabbitMQ.Client;
using TaskResults.Service.Broker;

namespace TaskResults.Service.Scheduling;

/// <summary>
/// Delays on a plain RabbitMQ broker, no plugin: one durable quorum "wait queue" per delay of the
/// polling schedule, with a message TTL of that delay and nothing consuming it. An expired message
/// is dead-lettered (at-least-once) to the <c>check-task-result</c> exchange and so back to the
/// check queue. Each wait queue holds one delay, so a message never waits behind a longer one.
/// Declared by <see cref="BrokerTopology"/> before the bus starts.
/// </summary>
public static class WaitQueues
{
    /// <summary>The exchange (and its queue) that holds messages for <paramref name="delay"/> before they go back to <paramref name="target"/> (the command queue by default).</summary>
    public static string NameFor(TimeSpan delay, string target = CommandQueue.Name) =>
        $"{target}-wait-{((long)delay.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}ms";

    public static Dictionary<string, object?> QueueArguments(TimeSpan delay, string target = CommandQueue.Name) => new()
    {
        ["x-queue-type"] = "quorum",
        ["x-message-ttl"] = (long)delay.TotalMilliseconds,
        ["x-dead-letter-exchange"] = target,
        // Needs reject-publish overflow; with no length limit set, nothing is ever refused.
        ["x-dead-letter-strategy"] = "at-least-once",
        ["x-overflow"] = "reject-publish",
    };

    public static Task DeclareAsync(IChannel channel, PollingSchedule schedule, CancellationToken cancellationToken) =>
        DeclareAsync(channel, schedule.AllDelays, CommandQueue.Name, cancellationToken);

    /// <summary>The wait queues of <paramref name="delays"/> in front of <paramref name="target"/> (an exchange, declared here too).</summary>
    public static async Task DeclareAsync(IChannel channel, IEnumerable<TimeSpan> delays, string target, CancellationToken cancellationToken)
    {
        // Dead-lettering into a missing exchange drops the message: the target is there before any wait queue.
        await channel.ExchangeDeclareAsync(target, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        foreach (var delay in delays)
        {
            var name = NameFor(delay, target);
            await channel.ExchangeDeclareAsync(name, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false, arguments: QueueArguments(delay, target), cancellationToken: cancellationToken);
            await channel.QueueBindAsync(name, name, "", cancellationToken: cancellationToken);
        }
    }
}
