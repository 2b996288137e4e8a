using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TaskResults.Service.Api;
using TaskResults.Service.Options;

namespace TaskResults.Tests.Resilience;

public sealed class When_calls_are_throttled
{
    private readonly FakeTimeProvider _clock = new();

    private ApiThrottle Throttle(int perSecond, int concurrent = 100) =>
        new(Options.Create(new AILabToolsOptions { MaxRequestsPerSecond = perSecond, MaxConcurrentRequests = concurrent }), _clock, NullLogger<ApiThrottle>.Instance);

    /// <summary>Starts <paramref name="calls"/> entries at once and moves the fake clock on in 10 ms steps until all got through; returns when each did.</summary>
    private async Task<List<TimeSpan>> EnterAll(ApiThrottle throttle, int calls, TimeSpan limit)
    {
        var start = _clock.GetTimestamp();
        var entered = new List<TimeSpan>();
        var pending = Enumerable.Range(0, calls).Select(async _ =>
        {
            using var lease = await throttle.EnterAsync(CancellationToken.None);
            lock (entered) entered.Add(_clock.GetElapsedTime(start, lease.Timestamp));
        }).ToList();

        while (pending.Any(t => !t.IsCompleted) && _clock.GetElapsedTime(start) < limit)
        {
            await Task.Yield();
            await Task.Delay(1);
            // However late the machine runs the continuations: a call that got its place answers, and a place that is
            // free goes to a waiting call, before the clock moves on.
            var giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            while (DateTime.UtcNow < giveUp && pending.Any(t => !t.IsCompleted)
                && (throttle.IdleDuration is null && throttle.GetStatistics()!.TotalSuccessfulLeases > 0 || throttle.GetStatistics()!.CurrentAvailablePermits > 0))
                await Task.Delay(1);
            _clock.Advance(TimeSpan.FromMilliseconds(10));
        }

        await Task.WhenAll(pending);
        return entered.Order().ToList();
    }

    private static int MostInAnyWindow(IReadOnlyList<TimeSpan> times) =>
        times.Select(from => times.Count(t => t >= from && t < from + TimeSpan.FromSeconds(1))).Max();

    [Fact]
    public async Task Should_never_let_more_than_the_limit_through_in_any_second()
    {
        var entered = await EnterAll(Throttle(perSecond: 5), calls: 23, limit: TimeSpan.FromSeconds(30));

        Assert.Equal(23, entered.Count);
        Assert.Equal(5, MostInAnyWindow(entered));
        // …and does not hold calls back longer than the limit needs: 23 calls at 5/s take 4 windows.
        Assert.InRange(entered[^1].TotalSeconds, 4.0, 4.2);
    }

    [Fact]
    public async Task Should_keep_a_slow_calls_place_until_a_second_after_its_answer()
    {
        // A slow call (a new connection, say) may reach the API at any moment before its answer: its
        // place is only free a second after that, or the API could see more than the limit in a second.
        var throttle = Throttle(perSecond: 2);
        var slow = await throttle.EnterAsync(CancellationToken.None);
        (await throttle.EnterAsync(CancellationToken.None)).Dispose();
        _clock.Advance(TimeSpan.FromMilliseconds(500));
        slow.Dispose();

        // Counted from the slow call's answer: the quick call's place frees 0.51 s later, the slow one's 1.01 s later.
        var entered = await EnterAll(throttle, calls: 2, limit: TimeSpan.FromSeconds(5));

        Assert.InRange(entered[0].TotalSeconds, 0.5, 0.7);
        Assert.InRange(entered[1].TotalSeconds, 1.0, 1.2);
    }

    [Fact]
    public async Task Should_hold_a_call_while_every_place_is_a_call_still_running()
    {
        var throttle = Throttle(perSecond: 1);
        var running = await throttle.EnterAsync(CancellationToken.None);

        var next = EnterAll(throttle, calls: 1, limit: TimeSpan.FromSeconds(5));
        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.False(next.IsCompleted);
        running.Dispose();

        // Measured from when EnterAll began: 3 s of the running call, then 1.01 s after its answer.
        var entered = await next;
        Assert.InRange(entered[0].TotalSeconds, 4.0, 4.2);
    }

    [Fact]
    public async Task Should_let_a_waiting_call_through_when_the_rate_climbs_back_while_calls_still_run()
    {
        var throttle = Throttle(perSecond: 4);
        throttle.SlowDown(); // 2 per second
        var running = new[] { await throttle.EnterAsync(CancellationToken.None), await throttle.EnterAsync(CancellationToken.None) };
        try
        {
            // Both places are calls that have not answered (a slow API); 2 s after the slow-down the
            // rate climbs to 3, which frees a place without any answer.
            var start = _clock.GetTimestamp();
            var third = throttle.EnterAsync(CancellationToken.None);
            while (!third.IsCompleted && _clock.GetElapsedTime(start) < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(1);
                _clock.Advance(TimeSpan.FromMilliseconds(10));
            }

            Assert.True(third.IsCompleted, "The call still waits 10 s after the slow-down.");
            using var lease = await third;
            Assert.InRange(_clock.GetElapsedTime(start, lease.Timestamp).TotalSeconds, 2.0, 2.2);
        }
        finally
        {
            foreach (var lease in running) lease.Dispose();
        }
    }

    [Fact]
    public async Task Should_give_up_a_wait_that_is_cancelled_and_keep_no_place_for_it()
    {
        var throttle = Throttle(perSecond: 1);
        (await throttle.EnterAsync(CancellationToken.None)).Dispose();
        using var cancel = new CancellationTokenSource();

        var waiting = throttle.EnterAsync(cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        // The cancelled call held no place: the next one goes when the first call's second is over.
        var entered = await EnterAll(throttle, calls: 1, limit: TimeSpan.FromSeconds(5));
        Assert.InRange(entered[0].TotalSeconds, 1.0, 1.2);
    }

    [Fact]
    public async Task Should_halve_the_rate_when_the_API_complains_and_climb_back_when_it_stops()
    {
        var throttle = Throttle(perSecond: 10);
        throttle.SlowDown();
        throttle.SlowDown(); // the same burst of complaints: counted once
        Assert.Equal(5, throttle.CurrentRate);

        var slowed = await EnterAll(throttle, calls: 10, limit: TimeSpan.FromSeconds(5));
        Assert.Equal(5, MostInAnyWindow(slowed.Where(t => t < TimeSpan.FromSeconds(1.5)).ToList()));

        _clock.Advance(TimeSpan.FromSeconds(10));
        await EnterAll(throttle, calls: 40, limit: TimeSpan.FromSeconds(30));
        Assert.Equal(10, throttle.CurrentRate);
    }

    [Fact]
    public async Task Should_hold_a_call_while_the_concurrency_limit_is_reached()
    {
        var throttle = Throttle(perSecond: 1000, concurrent: 2);
        var first = await throttle.EnterAsync(CancellationToken.None);
        using var second = await throttle.EnterAsync(CancellationToken.None);

        var third = throttle.EnterAsync(CancellationToken.None);
        await Task.Delay(50);
        Assert.False(third.IsCompleted);

        first.Dispose();
        (await third.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
    }

    [Fact]
    public async Task Should_serve_as_a_standard_RateLimiter_of_one_permit_per_call()
    {
        RateLimiter limiter = Throttle(perSecond: 2, concurrent: 1);

        using (var first = await limiter.AcquireAsync(1))
        {
            Assert.True(first.IsAcquired);
            // The one slot is taken: no second call now.
            using var second = limiter.AttemptAcquire(1);
            Assert.False(second.IsAcquired);
            Assert.Equal(0, limiter.GetStatistics()!.CurrentAvailablePermits);
        }

        // The answer holds its place in the window for a second: one of the two places is left.
        using (var third = limiter.AttemptAcquire(1)) Assert.True(third.IsAcquired);
        using (var fourth = limiter.AttemptAcquire(1)) Assert.False(fourth.IsAcquired);
        _clock.Advance(TimeSpan.FromSeconds(1.1));
        using (var fifth = limiter.AttemptAcquire(1)) Assert.True(fifth.IsAcquired);
        Assert.Equal(3, limiter.GetStatistics()!.TotalSuccessfulLeases);
    }

    [Fact]
    public void Should_take_no_place_when_asked_for_zero_permits()
    {
        RateLimiter limiter = Throttle(perSecond: 1, concurrent: 1);

        // Asking whether a call could go takes nothing: the one place per second is still free.
        for (var i = 0; i < 3; i++) using (var asked = limiter.AttemptAcquire(0)) Assert.True(asked.IsAcquired);
        using var call = limiter.AttemptAcquire(1);
        Assert.True(call.IsAcquired);
    }
}
