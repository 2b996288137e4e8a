using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TaskResults.Service.Options;
using TaskResults.Service.Registry;

namespace TaskResults.Service.Api;

/// <summary>
/// One budget for the API key across every instance sharing a Redis (<c>Registry:Store=Redis</c>),
/// with <see cref="ApiThrottle"/>'s rules: at most MaxConcurrentRequests calls in flight and
/// MaxRequestsPerSecond places in any second, a call holding its place from its start until a second
/// after its answer; "too many" from the API halves the rate for all, and it climbs back by a tenth
/// of the maximum per second after two calm seconds.
///
/// The places are two sorted sets in Redis (calls running, and calls answered within the last
/// second), the rate a hash; three small scripts take a place, give it back and slow down, each
/// atomic, on Redis's clock (so the instances' clocks do not matter). A running place expires after
/// the call's timeout, so an instance that dies holding places frees them. Callers of this instance
/// wait their turn here, in order (bounded by the consumer's concurrency, as with the local throttle).
///
/// While Redis cannot be reached the instance keeps to its share (<c>Registry:FallbackShare</c>) of
/// the budget through a local throttle, says so once, and goes back to the shared budget by itself.
/// No library fitted: RedisRateLimiting's limiters count requests per window or leases, not places
/// held until a second after the answer, and none adapts the rate to the API's complaints.
/// </summary>
public sealed class SharedApiThrottle : ApiBudget
{
    // The same window as ApiThrottle's: a little over a second, so calls that leave late still fit the API's.
    private const int WindowMs = 1010;
    // How often a caller waiting for an answer (every place is a running call) asks again.
    private static readonly TimeSpan AskAgainEvery = TimeSpan.FromMilliseconds(10);

    // KEYS: running, answered, rate. ARGV: place id, max rate, max concurrent, how long a running place is held at most.
    private const string TakeScript = """
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
        local max = tonumber(ARGV[2])
        local rate = math.min(max, tonumber(redis.call('HGET', KEYS[3], 'rate') or max))
        if rate < max then
          local slowed = tonumber(redis.call('HGET', KEYS[3], 'slowed') or 0)
          local raised = tonumber(redis.call('HGET', KEYS[3], 'raised') or 0)
          if now - slowed >= 2000 and now - raised >= 1000 then
            rate = math.min(max, rate + math.max(1, max / 10))
            redis.call('HSET', KEYS[3], 'rate', tostring(rate), 'raised', now)
          end
        end
        local limit = math.max(1, math.floor(rate))
        local running = redis.call('ZCARD', KEYS[1])
        if running >= tonumber(ARGV[3]) or running + redis.call('ZCARD', KEYS[2]) >= limit then
          local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
          local wait = 0
          if running < tonumber(ARGV[3]) and oldest[2] then wait = tonumber(oldest[2]) - now end
          return {0, wait, limit}
        end
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
        redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
        return {1, 0, limit}
        """;

    // KEYS: running, answered. ARGV: place id, window.
    private const string GiveBackScript = """
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
        redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]))
        return 1
        """;

    // KEYS: rate. ARGV: max rate. Returns the new rate, or -1 when it was halved less than a second ago.
    private const string SlowDownScript = """
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        if now - tonumber(redis.call('HGET', KEYS[1], 'slowed') or 0) < 1000 then return -1 end
        local max = tonumber(ARGV[1])
        local rate = math.max(1, math.min(max, tonumber(redis.call('HGET', KEYS[1], 'rate') or max)) / 2)
        redis.call('HSET', KEYS[1], 'rate', tostring(rate), 'slowed', now)
        redis.call('PEXPIRE', KEYS[1], 600000)
        return math.floor(rate)
        """;

    private readonly RedisConnection _redis;
    private readonly TimeProvider _clock;
    private readonly ILogger<SharedApiThrottle> _logger;
    private readonly ApiThrottle _fallback;
    private readonly int _fallbackRate;
    private readonly int _fallbackConcurrent;
    private readonly RedisKey[] _keys;
    private readonly RedisValue _maxRate;
    private readonly RedisValue _maxConcurrent;
    private readonly RedisValue _holdRunningMs;
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly object _lock = new();
    private TaskCompletionSource _answered = NewSignal();
    private int _rate;
    private int _running;
    private long? _idleSince;
    private long _successfulLeases;
    private int _unavailable;

    public SharedApiThrottle(RedisConnection redis, IOptions<AILabToolsOptions> api, IOptions<RegistryOptions> registry, TimeProvider clock,
        ILogger<SharedApiThrottle> logger, ILogger<ApiThrottle> fallbackLogger)
    {
        (_redis, _clock, _logger) = (redis, clock, logger);
        var options = api.Value;
        _rate = options.MaxRequestsPerSecond;
        _maxRate = options.MaxRequestsPerSecond;
        _maxConcurrent = options.MaxConcurrentRequests;
        // A call gives its place back with its answer; one that never does (its instance died) frees it after the longest call.
        _holdRunningMs = (long)(options.Timeout + options.ConnectTimeout).TotalMilliseconds + WindowMs;
        var share = registry.Value.FallbackShare;
        (_fallbackRate, _fallbackConcurrent) = (Share(options.MaxRequestsPerSecond, share), Share(options.MaxConcurrentRequests, share));
        _fallback = new ApiThrottle(_fallbackRate, _fallbackConcurrent, clock, fallbackLogger);

        // One budget per API key: the key's fingerprint (never the key) names it, so deployments with other keys never share it.
        var budget = $"{{{registry.Value.KeyPrefix}:budget:{Fingerprint(options.ApiKey)}}}";
        _keys = [budget + ":running", budget + ":answered", budget + ":rate"];
    }

    /// <summary>The shared budget could not be reached at the last try: this instance keeps to its share.</summary>
    public bool Unavailable => Volatile.Read(ref _unavailable) == 1;

    /// <inheritdoc />
    public override int CurrentRate => Unavailable ? _fallback.CurrentRate : Volatile.Read(ref _rate);

    /// <inheritdoc />
    public override TimeSpan? IdleDuration
    {
        get { lock (_lock) return _idleSince is { } since ? _clock.GetElapsedTime(since) : null; }
    }

    /// <inheritdoc />
    public override RateLimiterStatistics GetStatistics() => new() { TotalSuccessfulLeases = Interlocked.Read(ref _successfulLeases) };

    /// <inheritdoc />
    public override void SlowDown()
    {
        _ = SlowDownAsync();

        async Task SlowDownAsync()
        {
            try
            {
                var rate = (int)await _redis.CallAsync(database => database.ScriptEvaluateAsync(SlowDownScript, [_keys[2]], [_maxRate]));
                if (rate < 0) return;
                Volatile.Write(ref _rate, rate);
                _logger.LogWarning("The API reports a rate limit: every instance slows down to {Rate} calls per second", rate);
            }
            catch (RegistryUnavailableException)
            {
                _fallback.SlowDown();
            }
        }
    }

    // Asking without waiting is not offered: a place is taken in Redis, one round trip at least.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        throw new NotSupportedException("The shared budget is taken with AcquireAsync.");

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        if (permitCount != 1) throw new ArgumentOutOfRangeException(nameof(permitCount), "One permit per call.");
        // One caller of this instance at a time asks Redis for the next place, so calls go out in the order they asked.
        await _turn.WaitAsync(cancellationToken);
        try
        {
            var place = Guid.NewGuid().ToString("N");
            while (true)
            {
                Task answered;
                lock (_lock) answered = _answered.Task;
                var (taken, wait, back) = await TakeAsync(place);
                if (back) await UntilFallbackPlacesExpireAsync(cancellationToken);
                if (taken)
                {
                    lock (_lock)
                    {
                        _running++;
                        _idleSince = null;
                    }

                    Interlocked.Increment(ref _successfulLeases);
                    return new Lease(this, place);
                }

                // Every place is taken: wait until the oldest answered one leaves the window, or (every place a running call)
                // ask again in a moment; an answer here frees a place at once.
                var delay = wait > TimeSpan.Zero ? wait : AskAgainEvery;
                await Task.WhenAny(Task.Delay(delay, _clock, cancellationToken), answered);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        catch (RegistryUnavailableException exception)
        {
            Away(exception);
        }
        finally
        {
            _turn.Release();
        }

        return await _fallback.AcquireAsync(1, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _turn.Dispose();
            _fallback.Dispose();
        }

        base.Dispose(disposing);
    }

    // A place if one is free; else how long until the oldest answered place leaves (zero: every place is a running call). Back: Redis was away until now.
    private async Task<(bool Taken, TimeSpan Wait, bool Back)> TakeAsync(string place)
    {
        var answer = (RedisResult[])(await _redis.CallAsync(database => database.ScriptEvaluateAsync(TakeScript, _keys, [place, _maxRate, _maxConcurrent, _holdRunningMs])))!;
        var back = Interlocked.Exchange(ref _unavailable, 0) == 1;
        if (back) _logger.LogWarning("The shared API budget (Redis) answers again: every instance keeps to one budget again");
        Volatile.Write(ref _rate, (int)answer[2]);
        return ((int)answer[0] == 1, TimeSpan.FromMilliseconds((long)answer[1]), back);
    }

    // The calls made on this instance's share while Redis was away are not in Redis: their places end here first.
    private async Task UntilFallbackPlacesExpireAsync(CancellationToken cancellationToken)
    {
        if (_fallback.GetStatistics().TotalSuccessfulLeases == 0) return;
        while (_fallback.IdleDuration is not { } idle || idle < TimeSpan.FromMilliseconds(WindowMs))
            await Task.Delay(AskAgainEvery, _clock, cancellationToken);
    }

    // The place's call has its answer: the place stays taken for a second more, in Redis; a caller of this instance may try again now.
    private void GiveBack(string place)
    {
        TaskCompletionSource answered;
        lock (_lock)
        {
            _running--;
            if (_running == 0) _idleSince = _clock.GetTimestamp();
            answered = _answered;
            _answered = NewSignal();
        }

        _ = GiveBackAsync();
        answered.SetResult();

        async Task GiveBackAsync()
        {
            try
            {
                await _redis.CallAsync(database => database.ScriptEvaluateAsync(GiveBackScript, [_keys[0], _keys[1]], [place, WindowMs]));
            }
            catch (RegistryUnavailableException exception)
            {
                // The place expires by itself (the longest call, and a second): the budget stays kept, only smaller for a while.
                Away(exception);
            }
        }
    }

    private void Away(RegistryUnavailableException exception)
    {
        if (Interlocked.Exchange(ref _unavailable, 1) == 0)
        {
            _logger.LogError("The shared API budget (Redis) cannot be reached: this instance keeps to {Rate} calls per second and {Concurrent} at once (Registry:FallbackShare) until it answers again. {Problem}",
                _fallbackRate, _fallbackConcurrent, exception.Message);
        }
    }

    private static int Share(int whole, double share) => Math.Max(1, (int)Math.Floor(whole * share));

    private static string Fingerprint(string apiKey) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)))[..16];

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A place in the shared budget; disposing it (the call has its answer) starts its last second.</summary>
    private sealed class Lease(SharedApiThrottle throttle, string place) : RateLimitLease
    {
        private int _released;

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) throttle.GiveBack(place);
        }
    }
}
