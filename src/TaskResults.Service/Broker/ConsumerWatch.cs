namespace TaskResults.Service.Broker;

/// <summary>
/// Decides, from one observation a second, whether this instance consumes <c>check-task-result</c>
/// and what to do when it does not: nothing while the broker is away (readiness says so), restart
/// the receive endpoint once the broker has answered for a while, and give up (the process exits
/// for its supervisor to start a fresh one) when restarts have not helped within the recovery timeout.
/// Pure bookkeeping on a <see cref="TimeProvider"/>: <see cref="BusSupervisor"/> observes and acts.
/// </summary>
public sealed class ConsumerWatch(TimeProvider clock, TimeSpan recoveryTimeout, int concurrentMessageLimit)
{
    /// <summary>How long the queue must answer while this instance does not consume it before the endpoint is restarted.</summary>
    public static readonly TimeSpan RestartAfter = TimeSpan.FromSeconds(3);

    /// <summary>The least time between two restarts: a restarted endpoint gets this long to connect.</summary>
    public static readonly TimeSpan RestartEvery = TimeSpan.FromSeconds(15);

    /// <summary>How long commands may wait unconsumed while this instance has room before it counts as stalled.</summary>
    public static readonly TimeSpan StallAfter = TimeSpan.FromSeconds(15);

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

    private string? _notConsuming = Starting;
    private long _notConsumingSince = clock.GetTimestamp();
    private bool _answering;
    private long _answeringSince;
    private long _lastRestart = clock.GetTimestamp();
    private long _roomAndWorkSince = clock.GetTimestamp();
    private readonly Dictionary<Uri, long> _otherRestarts = [];

    /// <summary>Null while the instance consumes; otherwise why not.</summary>
    public string? NotConsumingBecause => _notConsuming;

    /// <summary>Takes one observation and says what changed and what to do.</summary>
    public Verdict Observe(ConsumerObservation observation)
    {
        var now = clock.GetTimestamp();
        if (observation.Queue is null) _answering = false;
        else if (!_answering) (_answering, _answeringSince) = (true, now);

        var restartOthers = OthersToRestart(observation, now);
        var previous = _notConsuming;
        if (WhyNotConsuming(observation, now) is not var (reason, restartAfter))
        {
            _notConsuming = null;
            var recovered = previous is not (null or Starting);
            return new Verdict(null, recovered ? Change.ConsumingAgain : Change.None, WatchAction.None, clock.GetElapsedTime(_notConsumingSince, now), restartOthers);
        }

        if (previous is null) _notConsumingSince = now;
        _notConsuming = reason;
        var change = previous is null ? Change.StoppedConsuming : Change.None;

        // The broker away is not this instance's fault, and readiness already says so: only time lost while it answers counts.
        if (!_answering) return new Verdict(reason, change, WatchAction.None, clock.GetElapsedTime(_notConsumingSince, now), restartOthers);
        var lost = clock.GetElapsedTime(Math.Max(_notConsumingSince, _answeringSince), now);
        if (lost >= recoveryTimeout) return new Verdict(reason, change, WatchAction.Exit, lost, restartOthers);
        if (lost >= restartAfter && clock.GetElapsedTime(_lastRestart, now) >= RestartEvery)
        {
            _lastRestart = now;
            return new Verdict(reason, change, WatchAction.RestartEndpoint, lost, restartOthers);
        }

        return new Verdict(reason, change, WatchAction.None, lost, restartOthers);
    }

    // The other endpoints get what the command queue's gets: a restart once the broker has answered for
    // RestartAfter while they are not ready, then at most every RestartEvery; never while the broker is away.
    private IReadOnlyList<EndpointNotReady> OthersToRestart(ConsumerObservation observation, long now)
    {
        if (observation.OthersNotReady is not { Count: > 0 } notReady) return [];
        if (!_answering || clock.GetElapsedTime(_answeringSince, now) < RestartAfter) return [];
        var due = notReady
            .Where(other => other.For >= RestartAfter)
            .Where(other => !_otherRestarts.TryGetValue(other.Address, out var last) || clock.GetElapsedTime(last, now) >= RestartEvery)
            .ToList();
        foreach (var other in due) _otherRestarts[other.Address] = now;
        return due;
    }

    // Why this instance does not consume, and how long to leave MassTransit to mend it before restarting the endpoint.
    private (string Reason, TimeSpan RestartAfter)? WhyNotConsuming(ConsumerObservation observation, long now)
    {
        if (observation.BusStartError is { } startError) return ($"the bus did not start: {startError}", RestartAfter);
        // Faulted or stopped: MassTransit waits out its reconnect backoff (up to 30 s); a restart connects now.
        if (!observation.EndpointReady) return ($"the receive endpoint is {observation.EndpointState}", RestartAfter);
        // A dead connection under checks in flight: MassTransit gives them BusStopTimeout, then reconnects by itself.
        if (observation.ClosedChannel is { } closed) return ($"its channel closed ({closed}) and MassTransit has not replaced it yet", SelfMendingWindow);
        if (observation.FinishingCount > 0 && observation.LongestFinishing >= StuckAfter)
            return ($"{observation.FinishingCount} finished checks could not publish or acknowledge for {observation.LongestFinishing.TotalSeconds:0} s", SelfMendingWindow);
        if (observation.Queue is not { } queue) return null; // MassTransit still has its consumer: the probe alone failing proves nothing
        if (queue.Consumers == 0) return ("the broker lists no consumer on the queue", RestartAfter);

        // Registered, yet receiving nothing while commands wait and this instance has room: a stalled consumer.
        if (queue.Messages == 0 || observation.InFlight >= concurrentMessageLimit)
        {
            _roomAndWorkSince = now;
            return null;
        }

        return clock.GetElapsedTime(_roomAndWorkSince, now) >= StallAfter && observation.SinceLastDelivery >= StallAfter
            ? ($"{queue.Messages} commands wait and none arrived for {observation.SinceLastDelivery.TotalSeconds:0} s", RestartAfter)
            : null;
    }
}

/// <summary>What the bus, the consumer and the broker say, once.</summary>
public sealed record ConsumerObservation(
    string? BusStartError,
    bool EndpointReady,
    string EndpointState,
    string? ClosedChannel,
    int FinishingCount,
    TimeSpan LongestFinishing,
    int InFlight,
    TimeSpan SinceLastDelivery,
    QueueState? Queue,
    IReadOnlyList<EndpointNotReady>? OthersNotReady = null);

/// <summary>Another receive endpoint of this instance that is not ready: its input address, MassTransit's word, and for how long.</summary>
public sealed record EndpointNotReady(Uri Address, string State, TimeSpan For);

/// <summary>The command queue as the broker reports it (a passive declare): ready messages and consumers, all instances together.</summary>
public sealed record QueueState(uint Messages, uint Consumers);

public enum Change
{
    None,
    StoppedConsuming,
    ConsumingAgain,
}

public enum WatchAction
{
    None,
    RestartEndpoint,
    Exit,
}

/// <summary>
/// The watch's word after one observation: why not consuming (null when consuming), what changed, what
/// to do, for how long it has been so, and which other endpoints to restart.
/// </summary>
public sealed record Verdict(string? NotConsumingBecause, Change Change, WatchAction Action, TimeSpan For, IReadOnlyList<EndpointNotReady>? RestartOthers = null)
{
    public IReadOnlyList<EndpointNotReady> RestartOthers { get; } = RestartOthers ?? [];
}
