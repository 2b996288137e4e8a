using TaskResults.Contracts;
using TaskResults.Service.Archive;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using TaskResults.Service.Options;
using TaskResults.Service.Scheduling;

namespace TaskResults.Service.Broker;

/// <summary>
/// What the service needs on the broker, declared before its bus starts: the command queue of the
/// configured type (moved from a classic queue when it must be, see <see cref="QueueMigration"/>),
/// MassTransit's error and skipped queues beside it, and the wait queues. MassTransit declares the
/// same queues with the same arguments afterwards.
/// </summary>
public sealed class BrokerTopology(BrokerConnections connections, PollingSchedule schedule, IOptions<MessageBusOptions> options, IOptions<Archive.ArchiveOptions> archive,
    ILogger<BrokerTopology> logger)
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CommandQueueType _type = options.Value.CommandQueue;
    private string? _lastProblem;

    /// <summary>Completes once everything is declared.</summary>
    public Task Ready => _ready.Task;

    private volatile string? _broken;

    /// <summary>Why the topology is not (or no longer) usable, or null: for readiness.</summary>
    public string? Problem => _ready.Task.IsCompleted ? _broken : _lastProblem ?? "the broker topology is not declared yet";

    private readonly object _repairLock = new();
    private Task? _repair;

    /// <summary>
    /// Declares the wait queues again, after one turned out missing (deleted while the service ran:
    /// the broker returned a rescheduled check or an archive job sent back to wait). One repair at a time, however many checks found
    /// the queue missing; it keeps trying until it succeeds. Until then the instance is not ready,
    /// and a declaration the broker refuses is said once, loudly. Never throws.
    /// </summary>
    public Task RepairWaitQueuesAsync()
    {
        lock (_repairLock)
        {
            return _repair is { IsCompleted: false } running ? running : _repair = Task.Run(RepairUntilDeclaredAsync);
        }
    }

    private async Task RepairUntilDeclaredAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await connections.ConnectAsync("topology", CancellationToken.None);
                await using var channel = await connection.CreateChannelAsync();
                await DeclareWaitQueuesAsync(channel, CancellationToken.None);
                _broken = null;
                logger.LogWarning("A wait queue was missing (deleted while the service ran): declared the wait queues again");
                return;
            }
            catch (Exception exception)
            {
                _broken = $"the wait queues cannot be declared again: {exception.Message}";
                Report(LogLevel.Error, $"The broker refuses the wait queues ({exception.Message}); commands sent back to wait fail until they can be declared");
            }

            await Task.Delay(TimeSpan.FromSeconds(Math.Min(2 * attempt, 10)));
        }
    }

    /// <summary>Declares everything, trying again until it succeeds or <paramref name="cancellationToken"/> stops the service.</summary>
    public async Task DeclareAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; !_ready.Task.IsCompleted; attempt++)
        {
            TimeSpan retryIn;
            try
            {
                await using var connection = await connections.ConnectAsync("topology", cancellationToken);
                await DeclareCommandQueuesAsync(connection, cancellationToken);
                await using (var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken))
                {
                    await DeclareWaitQueuesAsync(channel, cancellationToken);
                }

                logger.LogInformation("Declared {Queue} ({Type}) and the wait queues for delays {Delays}",
                    CommandQueue.Name, _type, string.Join(", ", schedule.AllDelays));
                _ready.TrySetResult();
                return;
            }
            catch (QueueMigrationBlockedException blocked)
            {
                Report(LogLevel.Warning, blocked.Message + "; until then this instance is not ready");
                retryIn = TimeSpan.FromSeconds(5);
            }
            catch (OperationInterruptedException refused) when (refused.ShutdownReason?.ReplyCode is 403 or 406)
            {
                // Permissions, or a queue declared by someone else with other arguments: a person must act.
                Report(LogLevel.Error, $"The broker refuses the service's topology ({refused.ShutdownReason.ReplyText}). " +
                    "Fix the queue or the user's permissions (README, \"Running on a cluster\"); until then this instance is not ready");
                retryIn = TimeSpan.FromSeconds(10);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                Report(LogLevel.Warning, $"Cannot declare the broker topology at {connections.Broker} yet ({exception.Message}); trying again");
                retryIn = TimeSpan.FromSeconds(Math.Min(attempt, 5));
            }

            await Task.Delay(retryIn, cancellationToken);
        }
    }

    // The checks' wait queues, and the archive's when archiving is on.
    private async Task DeclareWaitQueuesAsync(IChannel channel, CancellationToken cancellationToken)
    {
        await WaitQueues.DeclareAsync(channel, schedule, cancellationToken);
        if (archive.Value.Enabled) await WaitQueues.DeclareAsync(channel, ArchiveRetries.Delays, TaskResultsEndpoints.ArchiveQueue, cancellationToken);
    }

    // The same problem again is not news: one line per problem, not one per attempt.
    private void Report(LogLevel level, string problem)
    {
        if (problem == _lastProblem) return;
        _lastProblem = problem;
        logger.Log(level, "{Problem}", problem);
    }

    private async Task DeclareCommandQueuesAsync(IConnection connection, CancellationToken cancellationToken)
    {
        var migration = new QueueMigration(connection, logger);
        foreach (var queue in CommandQueue.All)
        {
            var arguments = CommandQueue.ArgumentsOf(queue, _type);
            await using (var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken))
            {
                // As MassTransit declares it: a durable fanout exchange of the queue's name in front of it.
                await channel.ExchangeDeclareAsync(queue, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            }

            if (!await TryDeclareAsync(connection, queue, arguments, cancellationToken))
            {
                if (_type == CommandQueueType.Quorum && await IsPlainClassicAsync(connection, queue, cancellationToken))
                {
                    await MoveToQuorumAsync(connection, migration, queue, arguments, cancellationToken);
                }
                else
                {
                    // Declared by an operator or another version with other arguments: the broker's refusal says which.
                    await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
                    await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: arguments, cancellationToken: cancellationToken);
                }
            }
            else if (_type == CommandQueueType.Quorum)
            {
                // A move cut short (a crash, a lost connection) left held messages behind: bring them home.
                var moved = await migration.FinishAsync(queue, arguments, cancellationToken);
                if (moved > 0) logger.LogWarning("Finished moving {Queue} to a quorum queue: {Count} held messages returned to it", queue, moved);
            }

            await using (var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken))
            {
                await channel.QueueBindAsync(queue, queue, "", cancellationToken: cancellationToken);
            }
        }
    }

    private async Task MoveToQuorumAsync(IConnection connection, QueueMigration migration, string queue, Dictionary<string, object?> arguments, CancellationToken cancellationToken)
    {
        // One mover at a time: the instance that holds the exclusive lock queue.
        await using var lockChannel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            await lockChannel.QueueDeclareAsync(QueueMigration.LockQueue, durable: false, exclusive: true, autoDelete: true, cancellationToken: cancellationToken);
        }
        catch (OperationInterruptedException locked) when (locked.ShutdownReason?.ReplyCode == 405)
        {
            throw new QueueMigrationBlockedException(queue, 0);
        }

        logger.LogWarning("{Queue} is a classic queue: moving it to a quorum queue (README, \"Running on a cluster\")", queue);
        var moved = await migration.MoveToQuorumAsync(queue, arguments, cancellationToken);
        logger.LogWarning("Moved {Queue} to a quorum queue with its {Count} messages", queue, moved);
    }

    // The queue's current arguments are not readable over AMQP: a declaration that agrees tells.
    private static async Task<bool> TryDeclareAsync(IConnection connection, string queue, IDictionary<string, object?> arguments, CancellationToken cancellationToken)
    {
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: arguments, cancellationToken: cancellationToken);
            return true;
        }
        catch (OperationInterruptedException refused) when (refused.ShutdownReason?.ReplyCode == 406)
        {
            return false;
        }
    }

    // A classic queue as TaskResults and MassTransit declared it before: no arguments but its type.
    private static Task<bool> IsPlainClassicAsync(IConnection connection, string queue, CancellationToken cancellationToken) =>
        TryDeclareAsync(connection, queue, new Dictionary<string, object?> { ["x-queue-type"] = "classic" }, cancellationToken);
}
