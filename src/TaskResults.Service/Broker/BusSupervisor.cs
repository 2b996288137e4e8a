using MassTransit;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using TaskResults.Service.Options;

namespace TaskResults.Service.Broker;

/// <summary>
/// Runs the RabbitMQ bus and makes sure this instance really consumes <c>check-task-result</c>:
/// declares the topology, starts the bus, then once a second compares what MassTransit says
/// (<see cref="CommandConsumerMonitor"/>) with what the broker says about the queue. The instance
/// is ready only while it consumes. When it does not although the queue answers, it restarts the
/// queue's receive endpoint after a few seconds (MassTransit's own reconnects back off to half a
/// minute, and a transport that gave up stays down); when that does not help within
/// <see cref="MessageBusOptions.ConsumerRecoveryTimeout"/>, it stops the process with
/// <see cref="ExitCode"/> so its supervisor starts a fresh one.
/// </summary>
public sealed class BusSupervisor(
    IBusControl bus,
    BrokerTopology topology,
    CommandConsumerMonitor monitor,
    BrokerConnections connections,
    IOptions<MessageBusOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider clock,
    ILogger<BusSupervisor> logger) : BackgroundService
{
    /// <summary>The process's exit code when it gave up on consuming (its supervisor restarts it).</summary>
    public const int ExitCode = 3;

    /// <summary>How long the queue must answer while this instance does not consume it before the endpoint is restarted.</summary>
    public static readonly TimeSpan RestartAfter = TimeSpan.FromSeconds(3);

    /// <summary>How long commands may wait unconsumed while this instance has room before it counts as stalled.</summary>
    public static readonly TimeSpan StallAfter = TimeSpan.FromSeconds(15);

    /// <summary>The least time between two restarts: a restarted endpoint gets this long to connect.</summary>
    public static readonly TimeSpan RestartEvery = TimeSpan.FromSeconds(15);

    /// <summary>How long a finished check may wait for its events and acknowledgement to go out before the connection counts as stuck.</summary>
    public static readonly TimeSpan StuckAfter = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a consumer whose connection died waits for its checks in flight (they wait for
    /// confirms that never come) before MassTransit abandons them and reconnects by itself. Their
    /// commands are not lost: unacknowledged, the broker delivers them again.
    /// </summary>
    public static readonly TimeSpan BusStopTimeout = TimeSpan.FromSeconds(5);

    // MassTransit mends a dead connection in BusStopTimeout plus a reconnect; restarting the endpoint meanwhile would race it.
    private static readonly TimeSpan SelfMendingWindow = BusStopTimeout + TimeSpan.FromSeconds(7);

    private const string Starting = "starting";
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);

    private readonly MessageBusOptions _options = options.Value;
    private Task _start = Task.CompletedTask;
    private IConnection? _probeConnection;
    private volatile string? _notConsuming = Starting;
    private long _notConsumingSince;
    private bool _answering;
    private long _answeringSince;
    private long _lastRestart;
    private long _readyMessagesSince;

    /// <summary>Null while the instance consumes the command queue; otherwise why not (for readiness).</summary>
    public string? NotConsumingBecause => _notConsuming;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _notConsumingSince = _lastRestart = _readyMessagesSince = clock.GetTimestamp();
        try
        {
            await topology.DeclareAsync(stoppingToken);
            _lastRestart = clock.GetTimestamp();
            StartBus(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(CheckEvery, clock, stoppingToken);
                await CheckAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // Checks in flight get StopTimeout to finish; then they are abandoned and the broker hands their commands out again.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.StopTimeout);
        try
        {
            await bus.StopAsync(timeout.Token);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning("The bus did not stop cleanly: {Error}", exception.Message);
        }

        _probeConnection?.Dispose();
    }

    private async Task CheckAsync(CancellationToken stoppingToken)
    {
        var queue = await ProbeQueueAsync(stoppingToken);
        var now = clock.GetTimestamp();
        if (queue is null) _answering = false;
        else if (!_answering) (_answering, _answeringSince) = (true, now);

        var why = WhyNotConsuming(queue, now);
        if (why is not var (reason, restartAfter))
        {
            if (_notConsuming is not (null or Starting))
                logger.LogWarning("Consuming {Queue} again after {Duration:0.0} s", CommandQueue.Name, clock.GetElapsedTime(_notConsumingSince, now).TotalSeconds);
            _notConsuming = null;
            return;
        }

        if (_notConsuming is null)
        {
            _notConsumingSince = now;
            logger.LogWarning("Not consuming {Queue}: {Reason}", CommandQueue.Name, reason);
        }

        _notConsuming = reason;
        // The broker away is not this instance's fault, and readiness already says so: only time lost while it answers counts.
        if (!_answering) return;
        var lost = clock.GetElapsedTime(Math.Max(_notConsumingSince, _answeringSince), now);
        if (lost >= _options.ConsumerRecoveryTimeout)
        {
            logger.LogCritical("Not consuming {Queue} for {Duration} although the broker answers ({Reason}): stopping with exit code {ExitCode} so the supervisor starts a fresh instance",
                CommandQueue.Name, lost, reason, ExitCode);
            Environment.ExitCode = ExitCode;
            lifetime.StopApplication();
            return;
        }

        if (lost >= restartAfter && clock.GetElapsedTime(_lastRestart, now) >= RestartEvery)
        {
            _lastRestart = now;
            logger.LogWarning("Not consuming {Queue} for {Duration:0.0} s although the broker answers ({Reason}): restarting its receive endpoint",
                CommandQueue.Name, lost.TotalSeconds, reason);
            await RestartAsync(stoppingToken);
        }
    }

    // Why this instance does not consume, and how long to leave MassTransit to mend it before restarting the endpoint.
    private (string Reason, TimeSpan RestartAfter)? WhyNotConsuming(QueueDeclareOk? queue, long now)
    {
        if (_start.IsFaulted) return ($"the bus did not start: {_start.Exception?.GetBaseException().Message}", RestartAfter);
        // Faulted or stopped: MassTransit waits out its reconnect backoff (up to 30 s); a restart connects now.
        if (!monitor.EndpointReady) return ($"the receive endpoint is {monitor.EndpointState}", RestartAfter);
        // A dead connection under checks in flight: MassTransit gives them BusStopTimeout, then reconnects by itself.
        if (monitor.ClosedChannel is { } closed) return ($"its channel closed ({closed}) and MassTransit has not replaced it yet", SelfMendingWindow);
        if (monitor.Finishing is { Count: > 0 } finishing && finishing.Longest >= StuckAfter)
            return ($"{finishing.Count} finished checks could not publish or acknowledge for {finishing.Longest.TotalSeconds:0} s", SelfMendingWindow);
        if (queue is null) return null; // MassTransit still has its consumer: the probe alone failing proves nothing
        if (queue.ConsumerCount == 0) return ("the broker lists no consumer on the queue", RestartAfter);

        // Registered, yet receiving nothing while commands wait and this instance has room: a stalled consumer.
        if (queue.MessageCount == 0 || monitor.InFlight >= _options.ConcurrentMessageLimit)
        {
            _readyMessagesSince = now;
            return null;
        }

        return clock.GetElapsedTime(_readyMessagesSince, now) >= StallAfter && monitor.SinceLastDelivery >= StallAfter
            ? ($"{queue.MessageCount} commands wait and none arrived for {monitor.SinceLastDelivery.TotalSeconds:0} s", RestartAfter)
            : null;
    }

    // What the broker says about the command queue, over a connection of its own; null when it does not answer.
    private async Task<QueueDeclareOk?> ProbeQueueAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (_probeConnection is not { IsOpen: true })
            {
                _probeConnection?.Dispose();
                _probeConnection = null;
                using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                connectTimeout.CancelAfter(TimeSpan.FromSeconds(5));
                _probeConnection = await connections.ConnectAsync("watchdog", connectTimeout.Token);
            }

            await using var channel = await _probeConnection.CreateChannelAsync(cancellationToken: stoppingToken);
            return await channel.QueueDeclarePassiveAsync(CommandQueue.Name, stoppingToken);
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogDebug("The broker does not answer about {Queue}: {Error}", CommandQueue.Name, exception.Message);
            return null;
        }
    }

    private void StartBus(CancellationToken stoppingToken)
    {
        // Completes once the bus is connected and consumes; the broker may be away for long before that.
        _start = bus.StartAsync(stoppingToken);
        _start.ContinueWith(start => logger.LogWarning("The bus did not start: {Error}", start.Exception?.GetBaseException().Message),
            TaskContinuationOptions.OnlyOnFaulted);
    }

    // A fresh transport for the command queue: a new connection attempt now, on the next node, not after MassTransit's backoff.
    private async Task RestartAsync(CancellationToken stoppingToken)
    {
        if (_start.IsFaulted)
        {
            StartBus(stoppingToken);
            return;
        }

        if (monitor.Endpoint is not { } endpoint) return;

        // Checks stuck on a dead connection would hold the stop forever: a stop that times out has
        // MassTransit abandon them (the broker hands their commands to another consumer), and the
        // second stop then finishes at once.
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                await endpoint.Stop(timeout.Token);
                break;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogDebug("The receive endpoint of {Queue} did not stop within 2 s: {Error}", CommandQueue.Name, exception.Message);
            }
        }

        try
        {
            endpoint.Start(stoppingToken);
        }
        catch (InvalidOperationException exception)
        {
            // Still stopping: the next check tries again.
            logger.LogWarning("The receive endpoint of {Queue} did not start again: {Error}", CommandQueue.Name, exception.Message);
        }
    }
}
