using MassTransit;
using Microsoft.Extensions.Options;
using TaskResults.Service.Options;

namespace TaskResults.Service.Broker;

/// <summary>
/// Runs the RabbitMQ bus and makes sure this instance really consumes <c>check-task-result</c>:
/// declares the topology, starts the bus, then once a second tells <see cref="ConsumerWatch"/> what
/// MassTransit (<see cref="CommandConsumerMonitor"/>) and the broker (<see cref="CommandQueueProbe"/>) say about the queue, and does
/// what it decides: restart the queue's receive endpoint (MassTransit's own reconnects back off to
/// half a minute, and a transport that gave up stays down), or stop the process with
/// <see cref="ExitCode"/> so its supervisor starts a fresh one. Readiness reports the watch's word.
/// </summary>
public sealed class BusSupervisor(
    IBusControl bus,
    BrokerTopology topology,
    CommandConsumerMonitor monitor,
    CommandQueueProbe probe,
    IOptions<MessageBusOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider clock,
    ILogger<BusSupervisor> logger) : BackgroundService
{
    /// <summary>The process's exit code when it gave up on consuming (its supervisor restarts it).</summary>
    public const int ExitCode = 3;

    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);

    private readonly MessageBusOptions _options = options.Value;
    private readonly ConsumerWatch _watch = new(clock, options.Value.ConsumerRecoveryTimeout, options.Value.ConcurrentMessageLimit);
    private Task _start = Task.CompletedTask;

    /// <summary>Null while the instance consumes the command queue; otherwise why not (for readiness).</summary>
    public string? NotConsumingBecause => _watch.NotConsumingBecause;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await topology.DeclareAsync(stoppingToken);
            StartBus(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(CheckEvery, clock, stoppingToken);
                await ActOn(_watch.Observe(await ObserveAsync(stoppingToken)), stoppingToken);
            }
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: whatever a restart in progress ran into is moot.
        }
        catch (Exception exception)
        {
            // The host would stop with exit code 0 (it sets none for a failed background service):
            // a supervisor that restarts only failed processes must see this one failed.
            logger.LogCritical(exception, "The bus supervisor failed; stopping with exit code {ExitCode}", ExitCode);
            Environment.ExitCode = ExitCode;
            lifetime.StopApplication();
        }
    }

    /// <summary>
    /// A graceful stop (SIGTERM): the receive endpoint cancels its consumer on the broker first, so
    /// no new check starts; the checks in flight then get <see cref="MessageBusOptions.StopTimeout"/>
    /// to publish their events and rescheduled commands and be acknowledged. Those still running
    /// then are cancelled and abandoned unacknowledged: the broker hands their commands out again.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        logger.LogInformation("Stopping: taking no new checks from {Queue}; {InFlight} checks in flight get up to {StopTimeout} to finish",
            CommandQueue.Name, monitor.InFlight, _options.StopTimeout);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var abandoned = 0;
        using var counting = timeout.Token.Register(() => abandoned = monitor.InFlight);
        timeout.CancelAfter(_options.StopTimeout);
        try
        {
            await bus.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning("The bus did not stop cleanly: {Error}", exception.Message);
        }

        if (timeout.IsCancellationRequested)
        {
            logger.LogWarning("Stopped after {StopTimeout}: {Abandoned} checks in flight were abandoned unacknowledged; the broker delivers their commands again",
                _options.StopTimeout, abandoned);
        }
        else
        {
            logger.LogInformation("Stopped: every check in flight finished");
        }

        await probe.DisposeAsync();
    }

    private async Task<ConsumerObservation> ObserveAsync(CancellationToken stoppingToken)
    {
        var queue = await probe.ProbeAsync(stoppingToken);
        var finishing = monitor.Finishing;
        return new ConsumerObservation(
            _start.IsFaulted ? _start.Exception?.GetBaseException().Message : null,
            monitor.EndpointReady,
            monitor.EndpointState,
            monitor.ClosedChannel,
            finishing.Count,
            finishing.Longest,
            monitor.InFlight,
            monitor.SinceLastDelivery,
            queue,
            monitor.OthersNotReady);
    }

    private async Task ActOn(Verdict verdict, CancellationToken stoppingToken)
    {
        if (verdict.Change == Change.ConsumingAgain)
            logger.LogWarning("Consuming {Queue} again after {Duration:0.0} s", CommandQueue.Name, verdict.For.TotalSeconds);
        if (verdict.Change == Change.StoppedConsuming)
            logger.LogWarning("Not consuming {Queue}: {Reason}", CommandQueue.Name, verdict.NotConsumingBecause);

        var restarts = new List<Task>();
        // Not while the bus has not started (starting it starts them) nor when the instance gives up.
        var othersToRestart = _start.IsFaulted || verdict.Action == WatchAction.Exit ? [] : verdict.RestartOthers;
        foreach (var other in othersToRestart)
        {
            if (monitor.OtherEndpointAt(other.Address) is not { } endpoint) continue;
            logger.LogWarning("The receive endpoint {Address} has not been ready for {Duration:0.0} s although the broker answers ({Reason}): restarting it",
                other.Address, other.For.TotalSeconds, other.State);
            restarts.Add(RestartAsync(endpoint, stoppingToken));
        }

        switch (verdict.Action)
        {
            case WatchAction.RestartEndpoint:
                logger.LogWarning("Not consuming {Queue} for {Duration:0.0} s although the broker answers ({Reason}): restarting its receive endpoint",
                    CommandQueue.Name, verdict.For.TotalSeconds, verdict.NotConsumingBecause);
                restarts.Add(RestartCommandEndpointAsync(stoppingToken));
                break;
            case WatchAction.Exit:
                logger.LogCritical("Not consuming {Queue} for {Duration} although the broker answers ({Reason}): stopping with exit code {ExitCode} so the supervisor starts a fresh instance",
                    CommandQueue.Name, verdict.For, verdict.NotConsumingBecause, ExitCode);
                Environment.ExitCode = ExitCode;
                lifetime.StopApplication();
                break;
        }

        await Task.WhenAll(restarts);
    }

    private void StartBus(CancellationToken stoppingToken)
    {
        // Completes once the bus is connected and consumes; the broker may be away for long before that.
        _start = bus.StartAsync(stoppingToken);
        _start.ContinueWith(start => logger.LogWarning("The bus did not start: {Error}", start.Exception?.GetBaseException().Message),
            TaskContinuationOptions.OnlyOnFaulted);
    }

    private Task RestartCommandEndpointAsync(CancellationToken stoppingToken)
    {
        if (_start.IsFaulted)
        {
            StartBus(stoppingToken);
            return Task.CompletedTask;
        }

        return monitor.Endpoint is { } endpoint ? RestartAsync(endpoint, stoppingToken) : Task.CompletedTask;
    }

    // A fresh transport for the endpoint: a new connection attempt now, on the next node, not after MassTransit's backoff.
    private async Task RestartAsync(IReceiveEndpoint endpoint, CancellationToken stoppingToken)
    {
        // Checks stuck on a dead connection would hold the stop forever: a stop that times out has
        // MassTransit abandon them (the broker hands their commands to another consumer), and the
        // next stop then finishes at once.
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
                logger.LogDebug("The receive endpoint {Address} did not stop within 2 s: {Error}", endpoint.InputAddress, exception.Message);
            }
        }

        // A stop of the service came meanwhile: the endpoint stays stopped.
        if (stoppingToken.IsCancellationRequested) return;
        try
        {
            endpoint.Start(stoppingToken);
        }
        catch (InvalidOperationException exception)
        {
            // Still stopping: the next restart tries again.
            logger.LogWarning("The receive endpoint {Address} did not start again: {Error}", endpoint.InputAddress, exception.Message);
        }
    }
}
