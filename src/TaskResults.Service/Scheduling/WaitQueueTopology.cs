using System.Globalization;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using TaskResults.Service.Consumers;
using TaskResults.Service.Options;

namespace TaskResults.Service.Scheduling;

/// <summary>
/// Delays on a plain RabbitMQ broker, no plugin: one durable quorum "wait queue" per delay of the
/// polling schedule, with a message TTL of that delay and nothing consuming it. An expired message
/// is dead-lettered (at-least-once) to the <c>check-task-result</c> exchange and so back to the
/// check queue. Each wait queue holds one delay, so a message never waits behind a longer one.
/// Declared in the background, so the service answers /health/live while the broker is away;
/// rescheduling waits for <see cref="Ready"/>.
/// </summary>
public sealed class WaitQueueTopology(PollingSchedule schedule, IOptions<MessageBusOptions> bus, ILogger<WaitQueueTopology> logger) : BackgroundService
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once every wait queue is declared.</summary>
    public Task Ready => _ready.Task;

    /// <summary>The exchange (and its queue) that holds commands for <paramref name="delay"/>.</summary>
    public static string NameFor(TimeSpan delay) =>
        $"{CheckTaskResultConsumerDefinition.QueueName}-wait-{((long)delay.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}ms";

    public static Dictionary<string, object?> QueueArguments(TimeSpan delay) => new()
    {
        ["x-queue-type"] = "quorum",
        ["x-message-ttl"] = (long)delay.TotalMilliseconds,
        ["x-dead-letter-exchange"] = CheckTaskResultConsumerDefinition.QueueName,
        // Needs reject-publish overflow; with no length limit set, nothing is ever refused.
        ["x-dead-letter-strategy"] = "at-least-once",
        ["x-overflow"] = "reject-publish",
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var factory = new ConnectionFactory { Uri = new Uri(bus.Value.RabbitMq!), ClientProvidedName = "taskresults-topology" };
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await using var connection = await factory.CreateConnectionAsync(stoppingToken);
                await using var channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
                await DeclareAsync(channel, stoppingToken);
                logger.LogInformation("Declared wait queues for delays {Delays}", string.Join(", ", schedule.AllDelays));
                _ready.TrySetResult();
                return;
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning("Cannot declare the wait queues at {Broker} yet ({Error}); trying again", bus.Value.RabbitMqForLogs, exception.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), stoppingToken);
            }
        }
    }

    private async Task DeclareAsync(IChannel channel, CancellationToken cancellationToken)
    {
        // The target exchange may not exist yet on a new broker: declare it as MassTransit does, so
        // nothing dead-lettered before the bus starts is dropped.
        await channel.ExchangeDeclareAsync(CheckTaskResultConsumerDefinition.QueueName, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        foreach (var delay in schedule.AllDelays)
        {
            var name = NameFor(delay);
            await channel.ExchangeDeclareAsync(name, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false, arguments: QueueArguments(delay), cancellationToken: cancellationToken);
            await channel.QueueBindAsync(name, name, "", cancellationToken: cancellationToken);
        }
    }
}
