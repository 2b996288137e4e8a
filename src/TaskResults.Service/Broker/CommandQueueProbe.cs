using RabbitMQ.Client;

namespace TaskResults.Service.Broker;

/// <summary>
/// What the broker says about <c>check-task-result</c> (a passive declare), over a connection of the
/// watch's own. Every probe is bounded by <see cref="Timeout"/>: a broker that accepts connections
/// but does not answer (a node still recovering its queues, a paused or half-partitioned node)
/// counts as not answering within seconds, rather than holding <see cref="BusSupervisor"/>'s watch,
/// and with it readiness and restarts, for the client's 20 s continuation timeout.
/// </summary>
public sealed class CommandQueueProbe(BrokerConnections connections, ILogger<CommandQueueProbe> logger) : IAsyncDisposable
{
    /// <summary>The most one probe may take: connecting, opening a channel and the passive declare together.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private IConnection? _connection;

    /// <summary>The queue as the broker reports it; null when the broker does not answer within <see cref="Timeout"/>.</summary>
    public async Task<QueueState?> ProbeAsync(CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(Timeout);
        try
        {
            // Closed by the broker (a restart, a lost node): the client does not recover it, the next probe connects again.
            if (_connection is { IsOpen: false }) Drop();
            // RabbitMQ.Client 7 sends a cancelled request's frame and still waits for its answer:
            // each step is abandoned at the timeout instead, and the connection dropped with what it left behind.
            _connection ??= await Bounded(connections.ConnectAsync("watchdog", timeout.Token), timeout.Token);
            var channel = await Bounded(_connection.CreateChannelAsync(cancellationToken: timeout.Token), timeout.Token);
            var queue = await Bounded(channel.QueueDeclarePassiveAsync(CommandQueue.Name, timeout.Token), timeout.Token);
            // Not `await using`: disposing waits for the broker to confirm the close, up to the client's 20 s.
            var closing = channel.CloseAsync(timeout.Token);
            Observe(closing);
            await closing.WaitAsync(timeout.Token);
            await channel.DisposeAsync();
            return new QueueState(queue.MessageCount, queue.ConsumerCount);
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogDebug("The broker does not answer about {Queue}: {Error}", CommandQueue.Name,
                timeout.IsCancellationRequested ? $"no answer within {Timeout.TotalSeconds:0} s" : exception.Message);
            // Whatever state the connection is in, the next probe starts on a fresh one.
            Drop();
            return null;
        }
    }

    public ValueTask DisposeAsync()
    {
        Drop();
        return ValueTask.CompletedTask;
    }

    // The step's result, or OperationCanceledException at the timeout; a step that completes after
    // that is disposed (a late connection or channel) or its failure observed.
    private static async Task<T> Bounded<T>(Task<T> step, CancellationToken timeout)
    {
        try
        {
            return await step.WaitAsync(timeout);
        }
        catch (OperationCanceledException)
        {
            _ = step.ContinueWith(static late =>
            {
                if (late.IsCompletedSuccessfully && late.Result is IAsyncDisposable disposable) Observe(disposable.DisposeAsync().AsTask());
                else _ = late.Exception;
            }, TaskScheduler.Default);
            throw;
        }
    }

    // A task left to finish on its own: its failure, if any, is seen (not raised later as unobserved).
    private static void Observe(Task task) => task.ContinueWith(static failed => _ = failed.Exception, TaskContinuationOptions.OnlyOnFaulted);

    // Closing waits for the broker's word: not on the watch's time (a broker that does not answer would hold it).
    private void Drop()
    {
        if (Interlocked.Exchange(ref _connection, null) is not { } connection) return;
        _ = Task.Run(async () =>
        {
            try
            {
                await connection.AbortAsync(TimeSpan.FromSeconds(2));
                await connection.DisposeAsync();
            }
            catch (Exception exception)
            {
                logger.LogDebug("Closing the watch's broker connection: {Error}", exception.Message);
            }
        });
    }
}
