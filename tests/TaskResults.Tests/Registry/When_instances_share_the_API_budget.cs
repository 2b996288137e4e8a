using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TaskResults.Service.Api;
using TaskResults.Service.Options;
using TaskResults.Service.Registry;

namespace TaskResults.Tests.Registry;

/// <summary>
/// Several instances, one API key, one budget: each <see cref="SharedApiThrottle"/> here stands for an
/// instance (its own Redis connection) and all share a real redis-server. A call is recorded from when
/// its place was granted until a second after its answer; Redis holds the place at least that long
/// (it takes the place before the grant arrives and gives it back after the answer), so the budget
/// holds when no instant is covered by more than MaxRequestsPerSecond recorded calls.
/// </summary>
public sealed class When_instances_share_the_API_budget(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const int PerSecond = 10;
    private const int Concurrent = 4;
    private readonly string _prefix = "spec-" + Guid.NewGuid().ToString("N");
    private readonly CapturingLoggerProvider _logs = new();
    private readonly List<SharedApiThrottle> _instances = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // Never leave the shared server paused for the next spec, whatever happened.
        await redis.ResumeAsync();
        foreach (var instance in _instances) instance.Dispose();
    }

    private SharedApiThrottle Instance(string apiKey = "the-key", TimeSpan? callTimeout = null, double fallbackShare = 0.5) =>
        Instance(out _, TimeProvider.System, apiKey, callTimeout, fallbackShare);

    private SharedApiThrottle Instance(out RedisConnection connection, TimeProvider clock, string apiKey = "the-key", TimeSpan? callTimeout = null,
        double fallbackShare = 0.5)
    {
        var registry = Options.Create(new RegistryOptions { Store = RegistryStore.Redis, Redis = redis.ConnectionString, KeyPrefix = _prefix, FallbackShare = fallbackShare });
        var api = Options.Create(new AILabToolsOptions
        {
            ApiKey = apiKey,
            MaxRequestsPerSecond = PerSecond,
            MaxConcurrentRequests = Concurrent,
            Timeout = callTimeout ?? TimeSpan.FromSeconds(30),
            ConnectTimeout = TimeSpan.FromMilliseconds(100),
        });
        var loggers = LoggerFactory.Create(builder => builder.AddProvider(_logs));
        connection = new RedisConnection(registry);
        var instance = new SharedApiThrottle(connection, api, registry, clock,
            loggers.CreateLogger<SharedApiThrottle>(), NullLogger<ApiThrottle>.Instance);
        _instances.Add(instance);
        return instance;
    }

    /// <summary>Makes <paramref name="calls"/> calls at once through <paramref name="budget"/>, each answered after <paramref name="callTakes"/>.</summary>
    private static Task<Call[]> CallsThrough(SharedApiThrottle budget, int calls, TimeSpan callTakes) =>
        Task.WhenAll(Enumerable.Range(0, calls).Select(async _ =>
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            using var lease = await budget.AcquireAsync(1, timeout.Token);
            Assert.True(lease.IsAcquired);
            var started = Stopwatch.GetTimestamp();
            await Task.Delay(callTakes);
            return new Call(started, Stopwatch.GetTimestamp());
        }));

    private sealed record Call(long Started, long Answered);

    // The most calls whose places overlap at one instant: running (start to answer), or held (start to a second after the answer).
    private static int MostAtOnce(IEnumerable<Call> calls, TimeSpan heldAfterAnswer)
    {
        var after = (long)(heldAfterAnswer.TotalSeconds * Stopwatch.Frequency);
        var edges = calls.SelectMany(call => new[] { (At: call.Started, Change: 1), (At: call.Answered + after, Change: -1) })
            .OrderBy(edge => edge.At).ThenBy(edge => edge.Change);
        int now = 0, most = 0;
        foreach (var edge in edges) most = Math.Max(most, now += edge.Change);
        return most;
    }

    [Fact]
    public async Task Should_keep_all_instances_within_one_rate_and_one_concurrency()
    {
        var (first, second, third) = (Instance(), Instance(), Instance());

        var calls = (await Task.WhenAll(CallsThrough(first, 12, TimeSpan.FromMilliseconds(100)), CallsThrough(second, 12, TimeSpan.FromMilliseconds(100)),
            CallsThrough(third, 12, TimeSpan.FromMilliseconds(100)))).SelectMany(c => c).ToList();

        Assert.Equal(36, calls.Count);
        // Each instance alone would allow 10 and 4: three of them 30 and 12.
        Assert.InRange(MostAtOnce(calls, TimeSpan.FromSeconds(1)), 1, PerSecond);
        Assert.InRange(MostAtOnce(calls, TimeSpan.Zero), 1, Concurrent);
    }

    [Fact]
    public async Task Should_give_each_API_key_a_budget_of_its_own()
    {
        var (one, other) = (Instance("key-one"), Instance("key-two"));

        var calls = (await Task.WhenAll(CallsThrough(one, 10, TimeSpan.FromMilliseconds(50)), CallsThrough(other, 10, TimeSpan.FromMilliseconds(50)))).SelectMany(c => c).ToList();

        // Two budgets of 10: all 20 calls fit in one window, which one budget would not allow.
        Assert.True(MostAtOnce(calls, TimeSpan.FromSeconds(1)) > PerSecond);
        Assert.DoesNotContain("key-one", await redis.CliAsync("--scan", "--pattern", $"*{_prefix}*"));
    }

    [Fact]
    public async Task Should_slow_every_instance_down_together_and_climb_back()
    {
        var (complaining, other) = (Instance(), Instance());
        await CallsThrough(other, 1, TimeSpan.Zero);
        Assert.Equal(PerSecond, other.CurrentRate);

        complaining.SlowDown();
        var rates = new List<int>();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (rates.Count == 0 || rates.Min() == PerSecond || rates[^1] < PerSecond)
        {
            Assert.True(DateTime.UtcNow < until, $"The rate did not go down and back up within 30 s: {string.Join(", ", rates)}");
            await Task.Delay(200);
            await CallsThrough(other, 1, TimeSpan.Zero);
            rates.Add(other.CurrentRate);
        }

        // Halved for everyone, then a tenth of the maximum per second back up, after two calm seconds.
        Assert.Equal(PerSecond / 2, rates.First(rate => rate < PerSecond));
        Assert.Contains(PerSecond / 2 + 1, rates);
        Assert.Equal(PerSecond, rates[^1]);
    }

    [Fact]
    public async Task Should_free_the_places_of_an_instance_that_died_holding_them()
    {
        var dying = Instance(callTimeout: TimeSpan.FromMilliseconds(400));
        var survivor = Instance(callTimeout: TimeSpan.FromMilliseconds(400));
        // Every concurrent place taken, and never given back.
        for (var i = 0; i < Concurrent; i++) await dying.AcquireAsync(1);

        var waited = Stopwatch.StartNew();
        await CallsThrough(survivor, 1, TimeSpan.Zero);

        // Held for the longest call (timeout, connect timeout) and a second: not for ever, not ignored.
        Assert.InRange(waited.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Should_keep_to_its_share_while_Redis_is_away_and_share_again_after()
    {
        var budget = Instance(fallbackShare: 0.5);
        var health = new RegistryHealthCheck(new JobChains(Options.Create(new RegistryOptions()), TimeProvider.System, NullLogger<JobChains>.Instance), budget);
        await CallsThrough(budget, 1, TimeSpan.Zero);

        await redis.PauseAsync();
        var calls = await CallsThrough(budget, 12, TimeSpan.FromMilliseconds(50));

        Assert.True(budget.Unavailable);
        Assert.Equal(HealthStatus.Degraded, (await health.CheckHealthAsync(new HealthCheckContext())).Status);
        // Half of 10 per second and of 4 at once while Redis is away.
        Assert.InRange(MostAtOnce(calls, TimeSpan.FromSeconds(1)), 1, PerSecond / 2);
        Assert.InRange(MostAtOnce(calls, TimeSpan.Zero), 1, Concurrent / 2);

        await redis.ResumeAsync();
        var resumed = Stopwatch.StartNew();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (budget.Unavailable)
        {
            Assert.True(DateTime.UtcNow < until, "The shared budget did not answer within 30 s of Redis resuming.");
            await Task.Delay(100);
            await CallsThrough(budget, 1, TimeSpan.Zero);
        }

        // Calling on the shared budget again soon: takes whose answers were lost in the outage hold no places (they would for the longest call, 30 s).
        Assert.InRange(resumed.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));

        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(new HealthCheckContext())).Status);
        // One line when the outage began, one when it ended.
        Assert.Single(_logs.Lines, line => line.Level == LogLevel.Error && line.Message.Contains("cannot be reached"));
        Assert.Single(_logs.Lines, line => line.Level == LogLevel.Warning && line.Message.Contains("answers again"));
    }

    [Fact]
    public async Task Should_free_the_places_of_takes_lost_in_a_stall_though_their_instance_calls_no_more()
    {
        var (stalled, other) = (Instance(), Instance());
        await CallsThrough(stalled, 1, TimeSpan.Zero);

        // Every place asked for at once while Redis stalls: the takes time out (the calls go on the instance's share),
        // and Redis carries them out when it wakes. Then the instance calls no more.
        await redis.PauseAsync();
        await CallsThrough(stalled, Concurrent, TimeSpan.Zero);
        await redis.ResumeAsync();
        var resumed = Stopwatch.StartNew();

        // The other instance gets places soon: the lost takes' places were given up, not held for the longest call (31 s here).
        await CallsThrough(other, Concurrent, TimeSpan.FromMilliseconds(100));
        Assert.InRange(resumed.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Should_carry_each_answer_to_Redis_with_the_next_take()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var budget = Instance(out var connection, clock);

        // Four calls one after another: each take carries the answer before it, one round trip per call.
        for (var call = 1; call <= 4; call++)
        {
            using var lease = await budget.AcquireAsync(1);
            Assert.Equal(call, connection.Calls);
        }

        // The last answer had no take after it: Redis still counts its call as running, until it goes alone.
        Assert.Equal((1, 3), await PlacesAsync());
        clock.Advance(SharedApiThrottle.CarryAnswersWithin);
        await WaitForAsync(() => connection.Calls == 5, "the last answer to go to Redis alone");
        Assert.Equal((0, 4), await PlacesAsync());
    }

    [Fact]
    public async Task Should_carry_answers_again_after_Redis_refused_a_take()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var budget = Instance(out _, clock);
        (await budget.AcquireAsync(1)).Dispose();
        var running = (await PlacesKeysAsync()).Running;

        // A take Redis refuses (the key of running calls is not a sorted set): the answer it carried is not lost.
        await redis.CliAsync("SET", running, "not-a-sorted-set");
        await Assert.ThrowsAsync<StackExchange.Redis.RedisServerException>(async () => await budget.AcquireAsync(1));
        await redis.CliAsync("DEL", running);

        (await budget.AcquireAsync(1)).Dispose();
        Assert.Equal((1, 1), await PlacesAsync());
    }

    // The calls Redis counts as running and as answered within the window (the budget's two sorted sets).
    private async Task<(int Running, int Answered)> PlacesAsync()
    {
        var (running, answered) = await PlacesKeysAsync();
        return (int.Parse(await redis.CliAsync("ZCARD", running)), int.Parse(await redis.CliAsync("ZCARD", answered)));
    }

    private async Task<(string Running, string Answered)> PlacesKeysAsync()
    {
        // A sorted set left empty is gone: any of the budget's keys names it.
        var budget = Assert.Single((await redis.CliAsync("--scan", "--pattern", $"*{_prefix}:budget:*")).Split('\n')
            .Where(key => key.Length > 0).Select(key => key[..key.LastIndexOf(':')]).Distinct());
        return (budget + ":running", budget + ":answered");
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, $"Waited 30 s for {what}.");
            await Task.Delay(20);
        }
    }
}
