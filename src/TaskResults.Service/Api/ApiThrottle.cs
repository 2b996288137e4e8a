using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using TaskResults.Service.Options;

namespace TaskResults.Service.Api;

/// <summary>
/// Keeps this instance polite toward the API: at most MaxConcurrentRequests calls in flight and at
/// most MaxRequestsPerSecond calls in any one-second window as the API sees them. A call holds its
/// place in the window from when it starts until a second after its answer: when it reached the
/// API in between is unknown (opening a connection can take longer than the call), so only that
/// span makes the limit hold whatever the network does. When the API says "too many", the rate
/// halves; it climbs back by a tenth of the maximum per second once the API stops complaining.
///
/// A <see cref="RateLimiter"/> of one permit per call, so it composes with what speaks that
/// abstraction; the window that adapts to the API's complaints stays its own, inside. Several
/// instances share one budget through <see cref="SharedApiThrottle"/> instead.
/// </summary>
public sealed class ApiThrottle : ApiBudget
{
    // A little over a second, so calls that leave a few ms late still fit the API's window.
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(1010);
    private static readonly TimeSpan CalmBeforeSpeedUp = TimeSpan.FromSeconds(2);

    private readonly TimeProvider _clock;
    private readonly ILogger<ApiThrottle> _logger;
    private readonly SemaphoreSlim _inFlight;
    private readonly SemaphoreSlim _sendOrder = new(1, 1);
    private readonly int _maxRate;
    private readonly object _lock = new();
    // Places held in the window: calls still running, and the answer times of the last Window's calls (oldest first).
    private readonly Queue<long> _answeredAt = new();
    private int _running;
    private TaskCompletionSource _answered = NewSignal();
    private double _rate;
    private long _lastSlowDown = long.MinValue;
    private long _lastSpeedUp = long.MinValue;
    private long _successfulLeases;
    private long? _idleSince;

    public ApiThrottle(IOptions<AILabToolsOptions> options, TimeProvider clock, ILogger<ApiThrottle> logger)
        : this(options.Value.MaxRequestsPerSecond, options.Value.MaxConcurrentRequests, clock, logger)
    {
    }

    /// <summary>A throttle for a part of the budget (<see cref="SharedApiThrottle"/>'s own while Redis is away).</summary>
    public ApiThrottle(int maxRequestsPerSecond, int maxConcurrentRequests, TimeProvider clock, ILogger<ApiThrottle> logger)
    {
        _clock = clock;
        _logger = logger;
        _maxRate = maxRequestsPerSecond;
        _rate = _maxRate;
        _inFlight = new SemaphoreSlim(maxConcurrentRequests, maxConcurrentRequests);
    }

    /// <inheritdoc />
    public override int CurrentRate
    {
        get { lock (_lock) return (int)_rate; }
    }

    /// <summary>Waits for a free slot and for the rate to allow one more call; dispose the lease when the call is done.</summary>
    public async Task<Lease> EnterAsync(CancellationToken cancellationToken) => (Lease)await AcquireAsync(1, cancellationToken);

    /// <inheritdoc />
    public override TimeSpan? IdleDuration
    {
        get { lock (_lock) return _idleSince is { } since ? _clock.GetElapsedTime(since) : null; }
    }

    /// <inheritdoc />
    public override RateLimiterStatistics GetStatistics()
    {
        lock (_lock)
        {
            var now = _clock.GetTimestamp();
            var inWindow = _answeredAt.Count(answered => _clock.GetElapsedTime(answered, now) < Window);
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = Math.Max(0, Math.Min(_inFlight.CurrentCount, RateAt(now) - _running - inWindow)),
                TotalSuccessfulLeases = _successfulLeases,
            };
        }
    }

    // One call at a time is one permit; asking for none only asks whether a call could go now.
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        if (permitCount > 1) throw new ArgumentOutOfRangeException(nameof(permitCount), "One permit per call.");
        if (!_inFlight.Wait(0)) return Lease.Refused;
        if (_sendOrder.Wait(0))
        {
            try
            {
                if (TryTakePlace(out var now)) return Granted(permitCount, now);
            }
            finally
            {
                _sendOrder.Release();
            }
        }

        _inFlight.Release();
        return Lease.Refused;
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        if (permitCount > 1) throw new ArgumentOutOfRangeException(nameof(permitCount), "One permit per call.");
        await _inFlight.WaitAsync(cancellationToken);
        try
        {
            return Granted(permitCount, await WaitForPlaceAsync(cancellationToken));
        }
        catch
        {
            _inFlight.Release();
            throw;
        }
    }

    // A place taken at now: held by the lease, or (zero permits: only asking) handed back untouched.
    private Lease Granted(int permitCount, long now)
    {
        if (permitCount == 0)
        {
            lock (_lock) _running--;
            _inFlight.Release();
            return new Lease(null, now) { Asked = true };
        }

        Interlocked.Increment(ref _successfulLeases);
        return new Lease(this, now);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inFlight.Dispose();
            _sendOrder.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override void SlowDown()
    {
        lock (_lock)
        {
            var now = _clock.GetTimestamp();
            if (_lastSlowDown != long.MinValue && _clock.GetElapsedTime(_lastSlowDown, now) < TimeSpan.FromSeconds(1)) return;
            _lastSlowDown = now;
            _rate = Math.Max(1, _rate / 2);
            _logger.LogWarning("The API reports a rate limit: slowing down to {Rate} calls per second", (int)_rate);
        }
    }

    private async Task<long> WaitForPlaceAsync(CancellationToken cancellationToken)
    {
        // One caller at a time takes the next place, so calls go out in the order they asked.
        await _sendOrder.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                Task free;
                lock (_lock)
                {
                    if (TryTakePlace(out var now)) return now;

                    // Every place is taken: wait for the oldest answer to leave the window or, when
                    // every place is a running call, for an answer; after a slow-down, also for the
                    // next step back up, which may free a place before either.
                    free = _answeredAt.TryPeek(out var first)
                        ? Task.Delay(Window - _clock.GetElapsedTime(first, now), _clock, cancellationToken)
                        : _answered.Task.WaitAsync(cancellationToken);
                    if (UntilSpeedUp(now) is { } speedUp) free = Task.WhenAny(free, Task.Delay(speedUp, _clock, cancellationToken));
                }

                await free;
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            _sendOrder.Release();
        }
    }

    // A place in the window now, if one is free. Called by the caller whose turn it is (_sendOrder).
    private bool TryTakePlace(out long now)
    {
        lock (_lock)
        {
            now = _clock.GetTimestamp();
            while (_answeredAt.TryPeek(out var oldest) && _clock.GetElapsedTime(oldest, now) >= Window) _answeredAt.Dequeue();
            if (_running + _answeredAt.Count >= CurrentLimit(now)) return false;
            _running++;
            _idleSince = null;
            return true;
        }
    }

    private void Answered()
    {
        TaskCompletionSource answered;
        lock (_lock)
        {
            _running--;
            _answeredAt.Enqueue(_clock.GetTimestamp());
            if (_running == 0) _idleSince = _clock.GetTimestamp();
            answered = _answered;
            _answered = NewSignal();
        }

        answered.SetResult();
        _inFlight.Release();
    }

    // Called under _lock: how long until CurrentLimit may raise the rate, or null when it is at the maximum.
    private TimeSpan? UntilSpeedUp(long now)
    {
        if (_rate >= _maxRate) return null;
        var untilCalm = _lastSlowDown == long.MinValue ? TimeSpan.Zero : CalmBeforeSpeedUp - _clock.GetElapsedTime(_lastSlowDown, now);
        var untilDue = _lastSpeedUp == long.MinValue ? TimeSpan.Zero : TimeSpan.FromSeconds(1) - _clock.GetElapsedTime(_lastSpeedUp, now);
        var wait = untilCalm > untilDue ? untilCalm : untilDue;
        return wait > TimeSpan.FromMilliseconds(1) ? wait : TimeSpan.FromMilliseconds(1);
    }

    // Called under _lock: the limit now, after the step back up that is due (if any).
    private int CurrentLimit(long now)
    {
        if (StepUpDue(now))
        {
            _rate = Math.Min(_maxRate, _rate + Math.Max(1, _maxRate / 10.0));
            _lastSpeedUp = now;
        }

        return Math.Max(1, (int)_rate);
    }

    // Called under _lock: what CurrentLimit would allow now, without taking the step.
    private int RateAt(long now) => Math.Max(1, (int)(StepUpDue(now) ? Math.Min(_maxRate, _rate + Math.Max(1, _maxRate / 10.0)) : _rate));

    // Called under _lock.
    private bool StepUpDue(long now)
    {
        var calm = _lastSlowDown == long.MinValue || _clock.GetElapsedTime(_lastSlowDown, now) >= CalmBeforeSpeedUp;
        var due = _lastSpeedUp == long.MinValue || _clock.GetElapsedTime(_lastSpeedUp, now) >= TimeSpan.FromSeconds(1);
        return _rate < _maxRate && calm && due;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A call's place: taken at <see cref="Timestamp"/> (of the throttle's clock); dispose it when the call has its answer.</summary>
    public sealed class Lease : RateLimitLease
    {
        /// <summary>No place now (<see cref="RateLimiter.AttemptAcquire(int)"/> only; waiting callers always get one).</summary>
        internal static readonly Lease Refused = new(null, 0);

        private readonly ApiThrottle? _throttle;
        private int _released;

        internal Lease(ApiThrottle? throttle, long timestamp) => (_throttle, Timestamp) = (throttle, timestamp);

        public long Timestamp { get; }

        /// <summary>A zero-permit lease: a call could have gone, none did.</summary>
        internal bool Asked { get; init; }

        public override bool IsAcquired => _throttle is not null || Asked;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (_throttle is not null && Interlocked.Exchange(ref _released, 1) == 0) _throttle.Answered();
        }
    }
}
