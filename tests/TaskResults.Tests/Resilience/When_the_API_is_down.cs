using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TaskResults.Service.Api;
using TaskResults.Service.Options;

namespace TaskResults.Tests.Resilience;

public sealed class When_the_API_is_down : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new();
    private readonly AILabToolsOptions _options = new()
    {
        ApiKey = FakeAILabToolsApi.ApiKey, QuickRetries = 0, BreakAfterFailures = 3, BreakDuration = TimeSpan.FromSeconds(30), MaxRequestsPerSecond = 100,
    };

    private FakeAILabToolsApi _api = null!;

    public async Task InitializeAsync() => _api = await FakeAILabToolsApi.StartAsync();

    public async Task DisposeAsync() => await _api.DisposeAsync();

    private GuardedTaskResultApi Guarded(ApiThrottle? throttle = null)
    {
        _options.BaseUrl = _api.BaseUrl;
        var options = Options.Create(_options);
        return new GuardedTaskResultApi(
            TestClients.Create(_api.BaseUrl, o => { o.QuickRetries = 0; }),
            throttle ?? new ApiThrottle(options, TimeProvider.System, NullLogger<ApiThrottle>.Instance),
            new ApiCircuitBreaker(options, _clock, NullLogger<ApiCircuitBreaker>.Instance),
            new ApiIncidentLog(_clock, NullLogger<ApiIncidentLog>.Instance),
            options,
            TimeProvider.System);
    }

    [Fact]
    public async Task Should_stop_calling_after_failures_in_a_row_and_test_it_again_after_the_break()
    {
        _api.Script("down", FakeResponse.Error(503, "ERROR_RESOURCE_UNAVAILABLE", "Down"));
        var guarded = Guarded();
        for (var i = 0; i < 3; i++) Assert.IsType<CheckOutcome.TransientError>(await guarded.CheckAsync("down", TaskTypes.HdColourMigration, default));

        // The next check is held, without a call, while the break lasts: the queue is not drained.
        var held = guarded.CheckAsync("down", TaskTypes.HdColourMigration, default);
        await Task.Delay(100);
        Assert.False(held.IsCompleted);
        Assert.Equal(3, _api.CallsFor("down"));

        // After the break it is the one call that tests the API; the API answers, so calls resume.
        _api.Script("down", FakeResponse.Status("PROCESSING"));
        _clock.Advance(TimeSpan.FromSeconds(31));
        Assert.IsType<CheckOutcome.Pending>(await held.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.IsType<CheckOutcome.Pending>(await guarded.CheckAsync("down", TaskTypes.HdColourMigration, default));
        Assert.Equal(5, _api.CallsFor("down"));
    }

    [Fact]
    public async Task Should_pause_again_at_once_when_the_test_call_fails()
    {
        _api.Script("still-down", FakeResponse.Raw(502, "<html>Bad gateway</html>"));
        var guarded = Guarded();
        for (var i = 0; i < 3; i++) await guarded.CheckAsync("still-down", TaskTypes.HdColourMigration, default);
        _clock.Advance(TimeSpan.FromSeconds(31));
        await guarded.CheckAsync("still-down", TaskTypes.HdColourMigration, default);

        using var stop = new CancellationTokenSource();
        var held = guarded.CheckAsync("still-down", TaskTypes.HdColourMigration, stop.Token);
        await Task.Delay(100);
        Assert.False(held.IsCompleted);
        Assert.Equal(4, _api.CallsFor("still-down"));

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);
    }

    [Fact]
    public async Task Should_free_the_test_slot_when_the_test_call_is_cancelled()
    {
        _api.Script("cancelled", FakeResponse.Error(503, "AI_SERVICE_ERROR", "Down"));
        var guarded = Guarded();
        for (var i = 0; i < 3; i++) await guarded.CheckAsync("cancelled", TaskTypes.HdColourMigration, default);
        _clock.Advance(TimeSpan.FromSeconds(31));

        _api.Script("cancelled", FakeResponse.Status("QUEUING") with { Delay = TimeSpan.FromSeconds(30) });
        using (var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => guarded.CheckAsync("cancelled", TaskTypes.HdColourMigration, stop.Token));
        }

        // Without freeing it, every later check would wait for a test call that never ends.
        _api.Script("cancelled", FakeResponse.Status("QUEUING"));
        Assert.IsType<CheckOutcome.Pending>(await guarded.CheckAsync("cancelled", TaskTypes.HdColourMigration, default).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Should_retry_a_server_fault_quickly_within_the_check()
    {
        _options.QuickRetries = 2;
        _api.Script("flaky", FakeResponse.Error(503, "SERVICE_INTERNAL_ERROR", "Oops"), FakeResponse.Raw(502, "<html/>"),
            FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/f.png"]));

        var outcome = await Guarded().CheckAsync("flaky", TaskTypes.HdColourMigration, default);

        Assert.IsType<CheckOutcome.Succeeded>(outcome);
        Assert.Equal(3, _api.CallsFor("flaky"));
    }

    [Fact]
    public async Task Should_not_retry_a_rate_limit_within_the_check_but_slow_down()
    {
        _options.QuickRetries = 2;
        var throttle = new ApiThrottle(Options.Create(_options), TimeProvider.System, NullLogger<ApiThrottle>.Instance);
        _api.Script("limited", FakeResponse.Error(429, "EXCEEDING_LIMITS", "Too many requests"));

        var outcome = await Guarded(throttle).CheckAsync("limited", TaskTypes.HdColourMigration, default);

        Assert.Equal("EXCEEDING_LIMITS", Assert.IsType<CheckOutcome.TransientError>(outcome).Error.Code);
        Assert.Equal(1, _api.CallsFor("limited"));
        Assert.Equal(50, throttle.CurrentRate);
    }

    [Fact]
    public async Task Should_count_a_check_and_its_quick_retries_as_one_failure()
    {
        _options.QuickRetries = 2;
        _api.Script("down", FakeResponse.Error(503, "ERROR_RESOURCE_UNAVAILABLE", "Down"));
        var guarded = Guarded();

        // BreakAfterFailures = 3 means three failed checks, each with its retries: nine calls.
        for (var i = 0; i < 3; i++) Assert.IsType<CheckOutcome.TransientError>(await guarded.CheckAsync("down", TaskTypes.HdColourMigration, default));
        Assert.Equal(9, _api.CallsFor("down"));

        // Only now are calls paused (before, the first check's own retries paused them).
        var held = guarded.CheckAsync("down", TaskTypes.HdColourMigration, default);
        await Task.Delay(100);
        Assert.False(held.IsCompleted);
        Assert.Equal(9, _api.CallsFor("down"));
        _clock.Advance(TimeSpan.FromSeconds(31));
        await held.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Should_let_only_the_check_holding_the_test_pass_end_the_test()
    {
        var breaker = new ApiCircuitBreaker(Options.Create(new AILabToolsOptions { BreakAfterFailures = 1, BreakDuration = TimeSpan.FromSeconds(30) }),
            _clock, NullLogger<ApiCircuitBreaker>.Instance);
        var stale = breaker.TryEnter()!;            // let in before the break, still running
        breaker.Failed(breaker.TryEnter()!);        // the break
        Assert.Null(breaker.TryEnter());
        _clock.Advance(TimeSpan.FromSeconds(31));
        var trial = breaker.TryEnter();
        Assert.True(trial?.IsTrial);

        // Whatever the stale check reports, the test call is still the only one out.
        breaker.Abandoned(stale);
        Assert.Null(breaker.TryEnter());
        breaker.Failed(stale);
        Assert.Null(breaker.TryEnter());
        breaker.Answered(stale);
        Assert.Null(breaker.TryEnter());

        // The test call's own answer ends the break.
        breaker.Answered(trial!);
        Assert.False(breaker.TryEnter()!.IsTrial);
    }

    [Fact]
    public void Should_pause_again_only_for_the_test_call_failing()
    {
        var breaker = new ApiCircuitBreaker(Options.Create(new AILabToolsOptions { BreakAfterFailures = 1, BreakDuration = TimeSpan.FromSeconds(30) }),
            _clock, NullLogger<ApiCircuitBreaker>.Instance);
        breaker.Failed(breaker.TryEnter()!);
        _clock.Advance(TimeSpan.FromSeconds(31));
        var trial = breaker.TryEnter()!;

        breaker.Failed(trial);

        // A new break from now: no test call for another BreakDuration.
        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Null(breaker.TryEnter());
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(breaker.TryEnter()?.IsTrial);
    }

    [Fact]
    public async Task Should_wait_a_short_Retry_After_before_the_quick_retry()
    {
        _options.QuickRetries = 2;
        _api.Script("busy", FakeResponse.Error(503, "AI_SERVICE_ERROR", "Busy").WithHeader("Retry-After", "1"),
            FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/b.png"]));
        var started = System.Diagnostics.Stopwatch.StartNew();

        var outcome = await Guarded().CheckAsync("busy", TaskTypes.HdColourMigration, default);

        Assert.IsType<CheckOutcome.Succeeded>(outcome);
        Assert.Equal(2, _api.CallsFor("busy"));
        // At least the second the API asked for (a lower bound only: a loaded machine is slower, never faster).
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(950), $"Retried after {started.Elapsed}.");
    }

    [Fact]
    public async Task Should_leave_a_long_Retry_After_to_the_broker_side_backoff()
    {
        _options.QuickRetries = 2;
        _api.Script("later", FakeResponse.Error(503, "AI_SERVICE_ERROR", "Busy").WithHeader("Retry-After", "30"));

        var outcome = await Guarded().CheckAsync("later", TaskTypes.HdColourMigration, default);

        Assert.Equal(TimeSpan.FromSeconds(30), Assert.IsType<CheckOutcome.TransientError>(outcome).RetryAfter);
        Assert.Equal(1, _api.CallsFor("later"));
    }

    [Fact]
    public async Task Should_test_the_API_with_one_call_not_a_check_and_its_retries()
    {
        _options.QuickRetries = 2;
        _options.BreakAfterFailures = 1;
        _api.Script("down", FakeResponse.Error(503, "ERROR_RESOURCE_UNAVAILABLE", "Down"));
        var guarded = Guarded();
        await guarded.CheckAsync("down", TaskTypes.HdColourMigration, default);
        Assert.Equal(3, _api.CallsFor("down"));

        _clock.Advance(TimeSpan.FromSeconds(31));
        Assert.IsType<CheckOutcome.TransientError>(await guarded.CheckAsync("down", TaskTypes.HdColourMigration, default));

        Assert.Equal(4, _api.CallsFor("down"));
    }
}
