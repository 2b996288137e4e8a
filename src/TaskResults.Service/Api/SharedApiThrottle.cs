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
/// second), the rate a hash; two small scripts take a place and slow down, each atomic, on Redis's
/// clock (so the instances' clocks do not matter). A call's answer rides to Redis with the next take,
/// dated by the milliseconds since it came, so a check costs Redis one round trip for its place; with
/// no take soon after, it goes alone. A running place expires after
/// the call's timeout, so an instance that dies holding places frees them. Callers of this instance
/// ask Redis at once while none of them waits; once one waits for a place, they wait their turn here,
/// in order (bounded by the consumer's concurrency, as with the local throttle).
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
    // The longest a caller in line sleeps before it asks again.
    private static readonly TimeSpan LongestWait = TimeSpan.FromMilliseconds(50);
    // An answer's place goes back to Redis with the next take, or alone when no take comes within this.
    internal static readonly TimeSpan CarryAnswersWithin = TimeSpan.FromMilliseconds(10);
    // After a carry failed, it goes again after this (calls skip Redis for a second after a failure anyway).
    private static readonly TimeSpan CarryAgainAfter = TimeSpan.FromSeconds(1);

    // KEYS: running, answered, rate. ARGV: the place to take ('' for none), max rate, max concurrent, how long a running place
    // is held at most, the window; then the answered places this instance carries, each with the milliseconds since its answer.
    // Returns {taken (1, 0, or -1 when none was asked), ms until the oldest answered place leaves, the rate}.
    private const string TakeScript = """
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        local window = tonumber(ARGV[5])
        if #ARGV > 5 then
          for i = 6, #ARGV, 2 do
            redis.call('ZREM', KEYS[1], ARGV[i])
            redis.call('ZADD', KEYS[2], now - tonumber(ARGV[i + 1]) + window, ARGV[i])
          end
          redis.call('PEXPIRE', KEYS[2], window)
        end
        if ARGV[1] == '' then return {-1, 0, 0} end
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
    private int _inLine;
    private readonly object _lock = new();
    private TaskCompletionSource _answered = NewSignal();
    // Places whose calls have their answers, not yet told to Redis (each with when its answer came), and whether a lone carry is due.
    private List<(string Place, long AnsweredAt)> _toCarry = [];
    private bool _carryDue;
    // Until the places this instance took on its share while Redis was away have run out: every take waits for it.
    private Task _fallbackDrained = Task.CompletedTask;
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
        var place = Guid.NewGuid().ToString("N");
        try
        {
            // Nobody of this instance waits for a place: ask at once, alongside other such callers (Redis keeps the budget).
            if (Volatile.Read(ref _inLine) == 0 && !Unavailable && (await TakeAsync(place, cancellationToken)).Taken) return Granted(place);
            return await InLineAsync(place, cancellationToken);
        }
        catch (RegistryUnavailableException exception)
        {
            Away(exception);
        }

        return await _fallback.AcquireAsync(1, cancellationToken);
    }

    // Callers waiting for a place ask Redis one at a time, so calls go out in the order they asked; new callers join the line.
    private async Task<RateLimitLease> InLineAsync(string place, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _inLine);
        try
        {
            await _turn.WaitAsync(cancellationToken);
            try
            {
                while (true)
                {
                    Task answered;
                    lock (_lock) answered = _answered.Task;
                    var (taken, wait) = await TakeAsync(place, cancellationToken);
                    if (taken) return Granted(place);

                    // Every place is taken: wait until the oldest answered one leaves the window, or (every place a running call)
                    // ask again in a moment; an answer here frees a place at once. Never long: another instance's answer reaches
                    // Redis when it is carried, and its place may leave the window before the one this wait was told of.
                    var delay = wait > TimeSpan.Zero ? TimeSpan.FromTicks(Math.Min(wait.Ticks, LongestWait.Ticks)) : AskAgainEvery;
                    await Task.WhenAny(Task.Delay(delay, _clock, cancellationToken), answered);
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
            finally
            {
                _turn.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inLine);
        }
    }

    private Lease Granted(string place)
    {
        lock (_lock)
        {
            _running++;
            _idleSince = null;
        }

        Interlocked.Increment(ref _successfulLeases);
        return new Lease(this, place);
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

    // A place if one is free; else how long until the oldest answered place leaves (zero: every place is a running call).
    private async Task<(bool Taken, TimeSpan Wait)> TakeAsync(string place, CancellationToken cancellationToken)
    {
        var answer = await CarryAsync(place);
        Volatile.Write(ref _rate, (int)answer[2]);
        var taken = (int)answer[0] == 1;
        Task drained;
        lock (_lock)
        {
            if (Interlocked.Exchange(ref _unavailable, 0) == 1)
            {
                _logger.LogWarning("The shared API budget (Redis) answers again: every instance keeps to one budget again");
                _fallbackDrained = UntilFallbackPlacesExpireAsync();
            }

            drained = _fallbackDrained;
        }

        // Every take of this instance waits for that, not only the one that found Redis back: takes run side by side.
        if (!drained.IsCompleted)
        {
            try
            {
                await drained.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (taken)
            {
                GiveUp(place);
                throw;
            }
        }

        return (taken, TimeSpan.FromMilliseconds((long)answer[1]));
    }

    // One round trip: the answered places not yet told to Redis, and a place to take ("" for none). A try that fails
    // (Redis away, or any fault) leaves them to be carried again; until then Redis counts them as running: more careful, never less.
    private async Task<RedisResult[]> CarryAsync(string place)
    {
        List<(string Place, long AnsweredAt)> carried;
        lock (_lock) (carried, _toCarry) = (_toCarry, []);
        // A place older than the longest call has left Redis by itself.
        carried.RemoveAll(answer => _clock.GetElapsedTime(answer.AnsweredAt).TotalMilliseconds >= (long)_holdRunningMs);
        var arguments = new RedisValue[5 + 2 * carried.Count];
        (arguments[0], arguments[1], arguments[2], arguments[3], arguments[4]) = (place, _maxRate, _maxConcurrent, _holdRunningMs, WindowMs);
        for (var i = 0; i < carried.Count; i++)
            (arguments[5 + 2 * i], arguments[6 + 2 * i]) = (carried[i].Place, (long)_clock.GetElapsedTime(carried[i].AnsweredAt).TotalMilliseconds);

        try
        {
            return (RedisResult[])(await _redis.CallAsync(database => database.ScriptEvaluateAsync(TakeScript, _keys, arguments)))!;
        }
        catch (Exception exception)
        {
            lock (_lock) _toCarry.InsertRange(0, carried);
            // A take whose answer was lost may hold a place nobody uses: given up, instead of blocking the budget for the longest call.
            if (place.Length > 0 && exception is RegistryUnavailableException { MayHaveLanded: true }) GiveUp(place);
            // Carried again with the next take, or alone in a moment if none comes (an instance gone quiet must not keep them).
            ArmCarry(CarryAgainAfter);
            throw;
        }
    }

    // The calls made on this instance's share while Redis was away are not in Redis: their places end here first.
    private async Task UntilFallbackPlacesExpireAsync()
    {
        if (_fallback.GetStatistics().TotalSuccessfulLeases == 0) return;
        while (_fallback.IdleDuration is not { } idle || idle < TimeSpan.FromMilliseconds(WindowMs))
            await Task.Delay(AskAgainEvery, _clock);
    }

    // The place's call has its answer: the place stays taken for a second more, which Redis hears with the next take (or
    // alone, when none comes within CarryAnswersWithin); a caller of this instance may try again now.
    private void GiveBack(string place)
    {
        TaskCompletionSource answered;
        lock (_lock)
        {
            _running--;
            if (_running == 0) _idleSince = _clock.GetTimestamp();
            answered = _answered;
            _answered = NewSignal();
            _toCarry.Add((place, _clock.GetTimestamp()));
        }

        ArmCarry(CarryAnswersWithin);
        answered.SetResult();
    }

    // A place taken for no call: it goes back as answered a window ago, so it counts for nothing from the next carry on.
    private void GiveUp(string place)
    {
        lock (_lock) _toCarry.Add((place, _clock.GetTimestamp() - (long)(WindowMs / 1000.0 * _clock.TimestampFrequency)));
        ArmCarry(CarryAnswersWithin);
    }

    // The places to carry go alone after delay, unless a take carries them first; one such carry is due at a time.
    private void ArmCarry(TimeSpan delay)
    {
        lock (_lock)
        {
            if (_carryDue) return;
            _carryDue = true;
        }

        _ = CarryAloneAsync();

        async Task CarryAloneAsync()
        {
            try
            {
                await Task.Delay(delay, _clock);
                bool any;
                lock (_lock) (_carryDue, any) = (false, _toCarry.Count > 0);
                if (any) await CarryAsync("");
            }
            catch (RegistryUnavailableException exception)
            {
                // Armed again by the failure; meanwhile Redis counts them as running, and a running place expires by itself.
                Away(exception);
            }
            catch (Exception exception)
            {
                _logger.LogWarning(exception, "The shared API budget could not give answered places back to Redis; they go again in a moment");
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
