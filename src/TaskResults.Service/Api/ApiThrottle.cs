using Microsoft.Extensions.Options;
using TaskResults.Service.Options;

namespace TaskResults.Service.Api;

/// <summary>
/// Keeps this instance polite toward the API: at most MaxConcurrentRequests calls in flight and at
/// most MaxRequestsPerSecond calls in any one-second window (an exact sliding log of send times).
/// When the API says "too many", the rate halves; it climbs back by a tenth of the maximum per
/// second once the API stops complaining.
/// </summary>
public sealed class ApiThrottle
{
    // A little over a second, so calls that leave a few ms late still fit the API's window.
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(1010);
    private static readonly TimeSpan CalmBeforeSpeedUp = TimeSpan.FromSeconds(2);

    private readonly TimeProvider _clock;
    private readonly ILogger<ApiThrottle> _logger;
    private readonly SemaphoreSlim _inFlight;
    private readonly SemaphoreSlim _sendOrder = new(1, 1);
    private readonly long[] _sentAt;
    private readonly int _maxRate;
    private readonly object _rateLock = new();
    private int _next;
    private double _rate;
    private long _lastSlowDown = long.MinValue;
    private long _lastSpeedUp = long.MinValue;

    public ApiThrottle(IOptions<AILabToolsOptions> options, TimeProvider clock, ILogger<ApiThrottle> logger)
    {
        _clock = clock;
        _logger = logger;
        _maxRate = options.Value.MaxRequestsPerSecond;
        _rate = _maxRate;
        _sentAt = Enumerable.Repeat(long.MinValue, _maxRate).ToArray();
        _inFlight = new SemaphoreSlim(options.Value.MaxConcurrentRequests, options.Value.MaxConcurrentRequests);
    }

    /// <summary>The calls per second currently allowed (the maximum, or less after the API complained).</summary>
    public int CurrentRate
    {
        get { lock (_rateLock) return (int)_rate; }
    }

    /// <summary>Waits for a free slot and for the rate to allow one more call; dispose the lease when the call is done.</summary>
    public async Task<Lease> EnterAsync(CancellationToken cancellationToken)
    {
        await _inFlight.WaitAsync(cancellationToken);
        try
        {
            var sentAt = await WaitForRateAsync(cancellationToken);
            return new Lease(_inFlight, sentAt);
        }
        catch
        {
            _inFlight.Release();
            throw;
        }
    }

    /// <summary>The API said it is over a limit: halve the rate (at most once a second, one burst of complaints is one signal).</summary>
    public void SlowDown()
    {
        lock (_rateLock)
        {
            var now = _clock.GetTimestamp();
            if (_lastSlowDown != long.MinValue && _clock.GetElapsedTime(_lastSlowDown, now) < TimeSpan.FromSeconds(1)) return;
            _lastSlowDown = now;
            _rate = Math.Max(1, _rate / 2);
            _logger.LogWarning("The API reports a rate limit: slowing down to {Rate} calls per second", (int)_rate);
        }
    }

    private async Task<long> WaitForRateAsync(CancellationToken cancellationToken)
    {
        // One caller at a time takes the next send time, so the log stays in order.
        await _sendOrder.WaitAsync(cancellationToken);
        try
        {
            var limit = CurrentLimit();
            var oldest = _sentAt[(_next - limit + _maxRate) % _maxRate];
            if (oldest != long.MinValue)
            {
                var wait = Window - _clock.GetElapsedTime(oldest);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, _clock, cancellationToken);
            }

            var now = _clock.GetTimestamp();
            _sentAt[_next] = now;
            _next = (_next + 1) % _maxRate;
            return now;
        }
        finally
        {
            _sendOrder.Release();
        }
    }

    private int CurrentLimit()
    {
        lock (_rateLock)
        {
            var now = _clock.GetTimestamp();
            var calm = _lastSlowDown == long.MinValue || _clock.GetElapsedTime(_lastSlowDown, now) >= CalmBeforeSpeedUp;
            var due = _lastSpeedUp == long.MinValue || _clock.GetElapsedTime(_lastSpeedUp, now) >= TimeSpan.FromSeconds(1);
            if (_rate < _maxRate && calm && due)
            {
                _rate = Math.Min(_maxRate, _rate + Math.Max(1, _maxRate / 10.0));
                _lastSpeedUp = now;
            }

            return Math.Max(1, (int)_rate);
        }
    }

    /// <summary>A call's place: the rate counted it at <see cref="Timestamp"/> (of the throttle's clock); dispose it when the call is done.</summary>
    public sealed class Lease(SemaphoreSlim inFlight, long timestamp) : IDisposable
    {
        private int _released;

        public long Timestamp { get; } = timestamp;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) inFlight.Release();
        }
    }
}
