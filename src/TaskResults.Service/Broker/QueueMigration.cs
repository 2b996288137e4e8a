using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace TaskResults.Service.Broker;

/// <summary>
/// Turns a classic queue into a quorum queue of the same name on a live broker, losing no message:
/// a quorum "holding" queue takes the queue's place behind its exchange, the queue's messages move
/// into it, the queue is deleted (only when empty and unused) and declared again as quorum, takes
/// its place back, and the held messages move into it. Every step can be repeated, so a start that
/// finds a holding queue left by a crash finishes the move (<see cref="FinishAsync"/>).
///
/// What it cannot help: a message routed while a binding is switched (microseconds) may reach both
/// queues and be delivered twice (at-least-once, as everywhere); a message published straight to the
/// queue through the default exchange in the instant it does not exist is refused (returned to a
/// mandatory publisher), and one published that way in the instant the classic queue is deleted can
/// be confirmed and lost (measured on RabbitMQ 3.10; docs/topology.md). Senders that go through the
/// exchange lose nothing.
/// </summary>
public sealed class QueueMigration(IConnection connection, ILogger logger)
{
    private const int AckEvery = 100;

    /// <summary>The name of the queue that holds <paramref name="queue"/>'s messages while it is moved.</summary>
    public static string HoldingQueueOf(string queue) => queue + "-migrating";

    /// <summary>The exclusive queue whose owner is the one instance moving the queues.</summary>
    public const string LockQueue = CommandQueue.Name + "-migration-lock";

    /// <summary>Moves <paramref name="queue"/> (bound to the exchange of the same name) to a quorum queue with <paramref name="arguments"/>; returns the messages moved.</summary>
    public async Task<long> MoveToQuorumAsync(string queue, IDictionary<string, object?> arguments, CancellationToken cancellationToken)
    {
        var holding = HoldingQueueOf(queue);
        var consumers = await OnChannel(channel => channel.QueueDeclarePassiveAsync(queue, cancellationToken), cancellationToken);
        if (consumers.ConsumerCount > 0) throw new QueueMigrationBlockedException(queue, consumers.ConsumerCount);

        await OnChannel(async channel =>
        {
            await channel.QueueDeclareAsync(holding, durable: true, exclusive: false, autoDelete: false, arguments: arguments, cancellationToken: cancellationToken);
            // New commands reach the holding queue first, then stop reaching the old one.
            await channel.QueueBindAsync(holding, queue, "", cancellationToken: cancellationToken);
            await channel.QueueUnbindAsync(queue, queue, "", cancellationToken: cancellationToken);
            return true;
        }, cancellationToken);

        var moved = await DrainAndDeleteAsync(queue, holding, fromIsClassic: true, cancellationToken);
        moved += await FinishAsync(queue, arguments, cancellationToken);
        return moved;
    }

    /// <summary>
    /// Puts <paramref name="queue"/> (quorum, <paramref name="arguments"/>) back behind its exchange
    /// and empties its holding queue into it, if a move left one; returns the messages moved.
    /// </summary>
    public async Task<long> FinishAsync(string queue, IDictionary<string, object?> arguments, CancellationToken cancellationToken)
    {
        var holding = HoldingQueueOf(queue);
        if (!await ExistsAsync(holding, cancellationToken)) return 0;

        await OnChannel(async channel =>
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: arguments, cancellationToken: cancellationToken);
            await channel.QueueBindAsync(queue, queue, "", cancellationToken: cancellationToken);
            await channel.QueueUnbindAsync(holding, queue, "", cancellationToken: cancellationToken);
            return true;
        }, cancellationToken);
        return await DrainAndDeleteAsync(holding, queue, fromIsClassic: false, cancellationToken);
    }

    private async Task<long> DrainAndDeleteAsync(string from, string to, bool fromIsClassic, CancellationToken cancellationToken)
    {
        long moved = 0;
        for (var attempt = 1; ; attempt++)
        {
            moved += await MoveMessagesAsync(from, to, cancellationToken);
            try
            {
                if (fromIsClassic)
                {
                    // Refused while a message or a consumer is left: a sender that published straight to it, or an old instance back.
                    await OnChannel(channel => channel.QueueDeleteAsync(from, ifUnused: true, ifEmpty: true, cancellationToken: cancellationToken), cancellationToken);
                }
                else
                {
                    // Quorum queues cannot be deleted "if empty"; the holding queue is unbound and has no sender of its own, so empty stays empty.
                    var left = await OnChannel(channel => channel.QueueDeclarePassiveAsync(from, cancellationToken), cancellationToken);
                    if (left.MessageCount > 0)
                    {
                        if (attempt >= 20) throw new InvalidOperationException($"{from} still holds {left.MessageCount} messages; the move goes on at the next attempt");
                        continue;
                    }

                    await OnChannel(channel => channel.QueueDeleteAsync(from, cancellationToken: cancellationToken), cancellationToken);
                }

                return moved;
            }
            catch (OperationInterruptedException exception) when (exception.ShutdownReason?.ReplyCode == 406 && attempt < 20)
            {
                logger.LogInformation("Queue {Queue} is not empty or unused yet ({Reason}); moving what is left", from, exception.ShutdownReason.ReplyText);
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
            }
        }
    }

    // Moves every message from one queue to another, each confirmed by the broker before it is acknowledged.
    private async Task<long> MoveMessagesAsync(string from, string to, CancellationToken cancellationToken)
    {
        var options = new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);
        await using var channel = await connection.CreateChannelAsync(options, cancellationToken);
        long moved = 0;
        ulong lastTag = 0;
        while (await channel.BasicGetAsync(from, autoAck: false, cancellationToken) is { } message)
        {
            // Mandatory: a destination gone missing fails the move instead of dropping the message.
            await channel.BasicPublishAsync("", to, mandatory: true, new BasicProperties(message.BasicProperties), message.Body, cancellationToken);
            lastTag = message.DeliveryTag;
            if (++moved % AckEvery == 0) await channel.BasicAckAsync(lastTag, multiple: true, cancellationToken);
        }

        if (moved % AckEvery != 0) await channel.BasicAckAsync(lastTag, multiple: true, cancellationToken);
        return moved;
    }

    private async Task<bool> ExistsAsync(string queue, CancellationToken cancellationToken)
    {
        try
        {
            await OnChannel(channel => channel.QueueDeclarePassiveAsync(queue, cancellationToken), cancellationToken);
            return true;
        }
        catch (OperationInterruptedException exception) when (exception.ShutdownReason?.ReplyCode == 404)
        {
            return false;
        }
    }

    // A refused operation closes its channel: each gets its own.
    private async Task<T> OnChannel<T>(Func<IChannel, Task<T>> operation, CancellationToken cancellationToken)
    {
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        return await operation(channel);
    }
}

/// <summary>The queue cannot be moved now: something still consumes it (instances of an earlier version), or another instance is moving it.</summary>
public sealed class QueueMigrationBlockedException(string queue, uint consumers)
    : Exception(consumers > 0
        ? $"{queue} is a classic queue with {consumers} consumer(s), instances of an earlier TaskResults version presumably; it moves to a quorum queue once they stop"
        : $"another TaskResults instance is moving {queue} to a quorum queue")
{
    public string Queue { get; } = queue;
}
