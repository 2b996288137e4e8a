using Microsoft.Extensions.Time.Testing;
using TaskResults.Service.Broker;

namespace TaskResults.Tests.Broker;

/// <summary>The watch behind readiness and self-repair, driven one observation a second on a fake clock.</summary>
public sealed class When_the_instance_stops_consuming
{
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromMinutes(2);
    private const int Limit = 16;

    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-12-01T12:00:00Z"));
    private readonly ConsumerWatch _watch;

    public When_the_instance_stops_consuming() => _watch = new ConsumerWatch(_clock, RecoveryTimeout, Limit);

    private static readonly QueueState Idle = new(0, 1);

    private static ConsumerObservation Consuming(QueueState? queue = null, int inFlight = 0, TimeSpan? sinceLastDelivery = null) =>
        new(null, true, "ready", null, 0, TimeSpan.Zero, inFlight, sinceLastDelivery ?? TimeSpan.Zero, queue ?? Idle);

    private static ConsumerObservation Faulted(QueueState? queue) =>
        new(null, false, "faulted: Broker unreachable", null, 0, TimeSpan.Zero, 0, TimeSpan.Zero, queue);

    // One observation a second for the given time; the verdicts in order.
    private List<Verdict> Watch(ConsumerObservation observation, TimeSpan duration)
    {
        var verdicts = new List<Verdict>();
        for (var second = 0; second < duration.TotalSeconds; second++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            verdicts.Add(_watch.Observe(observation));
        }

        return verdicts;
    }

    [Fact]
    public void Should_say_ready_while_the_endpoint_consumes()
    {
        var verdicts = Watch(Consuming(), TimeSpan.FromSeconds(30));

        Assert.All(verdicts, v => Assert.Equal((null, WatchAction.None), (v.NotConsumingBecause, v.Action)));
        Assert.Null(_watch.NotConsumingBecause);
    }

    [Fact]
    public void Should_say_not_ready_at_once_and_only_wait_while_the_broker_is_away()
    {
        Watch(Consuming(), TimeSpan.FromSeconds(5));

        var verdicts = Watch(Faulted(queue: null), TimeSpan.FromMinutes(5));

        Assert.Equal(Change.StoppedConsuming, verdicts[0].Change);
        Assert.Contains("faulted", verdicts[0].NotConsumingBecause);
        Assert.All(verdicts, v => Assert.Equal(WatchAction.None, v.Action));
        Assert.NotNull(_watch.NotConsumingBecause);
    }

    [Fact]
    public void Should_restart_the_endpoint_a_few_seconds_after_the_broker_answers_again()
    {
        Watch(Faulted(queue: null), TimeSpan.FromMinutes(5));

        var verdicts = Watch(Faulted(Idle), TimeSpan.FromSeconds(10));

        // Verdict i comes i seconds after the broker first answered.
        var restart = verdicts.FindIndex(v => v.Action == WatchAction.RestartEndpoint);
        Assert.Equal(ConsumerWatch.RestartAfter.TotalSeconds, restart);
        Assert.Single(verdicts, v => v.Action == WatchAction.RestartEndpoint);
    }

    [Fact]
    public void Should_restart_again_at_most_every_so_often_and_give_up_after_the_recovery_timeout()
    {
        Watch(Consuming(), TimeSpan.FromSeconds(2));

        // Verdict i comes i seconds after the instance stopped consuming.
        var verdicts = Watch(Faulted(Idle), RecoveryTimeout + TimeSpan.FromSeconds(1));

        var restarts = verdicts.Select((v, i) => (v, Second: i + 1)).Where(x => x.v.Action == WatchAction.RestartEndpoint).Select(x => x.Second).ToList();
        Assert.True(restarts.Count >= 5, $"restarted at {string.Join(", ", restarts)} s");
        Assert.All(restarts.Zip(restarts.Skip(1), (a, b) => b - a), gap => Assert.True(gap >= ConsumerWatch.RestartEvery.TotalSeconds));
        Assert.Equal(WatchAction.Exit, verdicts[(int)RecoveryTimeout.TotalSeconds].Action);
        Assert.DoesNotContain(verdicts.Take((int)RecoveryTimeout.TotalSeconds), v => v.Action == WatchAction.Exit);
    }

    [Fact]
    public void Should_leave_massTransit_time_to_mend_a_dead_connection_before_restarting()
    {
        var closed = Consuming() with { ClosedChannel = "Connection reset by peer" };

        var verdicts = Watch(closed, TimeSpan.FromSeconds(20));

        Assert.Contains("channel closed", verdicts[0].NotConsumingBecause);
        var restart = verdicts.FindIndex(v => v.Action == WatchAction.RestartEndpoint) + 1;
        Assert.InRange(restart, ConsumerWatch.BusStopTimeout.TotalSeconds + 1, 15);
    }

    [Fact]
    public void Should_call_checks_that_cannot_get_their_events_out_not_consuming()
    {
        var stuck = Consuming(inFlight: Limit) with { FinishingCount = Limit, LongestFinishing = ConsumerWatch.StuckAfter };

        var verdict = Watch(stuck, TimeSpan.FromSeconds(1)).Single();

        Assert.Contains($"{Limit} finished checks could not publish or acknowledge", verdict.NotConsumingBecause);
    }

    [Fact]
    public void Should_call_a_consumer_that_receives_nothing_while_commands_wait_stalled()
    {
        var waiting = new QueueState(500, 2);

        var verdicts = Watch(Consuming(waiting, inFlight: 0, sinceLastDelivery: TimeSpan.FromMinutes(1)), TimeSpan.FromSeconds(20));

        Assert.Null(verdicts[(int)ConsumerWatch.StallAfter.TotalSeconds - 2].NotConsumingBecause);
        Assert.Contains("500 commands wait", verdicts[(int)ConsumerWatch.StallAfter.TotalSeconds].NotConsumingBecause);
    }

    [Fact]
    public void Should_not_call_a_busy_consumer_stalled()
    {
        var waiting = new QueueState(500, 2);

        var verdicts = Watch(Consuming(waiting, inFlight: Limit, sinceLastDelivery: TimeSpan.FromMinutes(1)), TimeSpan.FromMinutes(1));

        Assert.All(verdicts, v => Assert.Null(v.NotConsumingBecause));
    }

    [Fact]
    public void Should_not_ask_the_broker_about_its_own_consumer_when_the_probe_fails()
    {
        var verdicts = Watch(Consuming() with { Queue = null }, TimeSpan.FromSeconds(30));

        Assert.All(verdicts, v => Assert.Null(v.NotConsumingBecause));
    }

    [Fact]
    public void Should_say_when_it_consumes_again_and_after_how_long()
    {
        Watch(Consuming(), TimeSpan.FromSeconds(2));
        Watch(Faulted(Idle), TimeSpan.FromSeconds(4));

        var verdict = Watch(Consuming(), TimeSpan.FromSeconds(1)).Single();

        Assert.Equal(Change.ConsumingAgain, verdict.Change);
        Assert.Equal(TimeSpan.FromSeconds(4), verdict.For);
    }

    private static readonly Uri Control = new("rabbitmq://localhost/task-results-control");

    private static IReadOnlyList<EndpointNotReady> ControlFaultedFor(TimeSpan duration) => [new(Control, "faulted: Broker unreachable", duration)];

    [Fact]
    public void Should_restart_another_endpoint_left_faulted_once_the_broker_answers_then_at_most_every_so_often()
    {
        var away = Watch(Faulted(queue: null) with { OthersNotReady = ControlFaultedFor(TimeSpan.FromMinutes(1)) }, TimeSpan.FromMinutes(2));
        Assert.All(away, v => Assert.Empty(v.RestartOthers));

        // The command queue's consumer is back (MassTransit's own retry came first); the control queue's still waits out its backoff.
        // Verdict i comes i seconds after the broker first answered.
        var verdicts = Watch(Consuming() with { OthersNotReady = ControlFaultedFor(TimeSpan.FromMinutes(1)) }, TimeSpan.FromMinutes(1));

        var restarts = verdicts.Select((v, i) => (v, Second: i)).Where(x => x.v.RestartOthers.Count > 0).ToList();
        Assert.Equal(ConsumerWatch.RestartAfter.TotalSeconds, restarts[0].Second);
        Assert.All(restarts, x => Assert.Equal(Control, Assert.Single(x.v.RestartOthers).Address));
        Assert.All(restarts.Zip(restarts.Skip(1), (a, b) => b.Second - a.Second), gap => Assert.Equal(ConsumerWatch.RestartEvery.TotalSeconds, gap));
        Assert.All(verdicts, v => Assert.Null(v.NotConsumingBecause));
    }

    [Fact]
    public void Should_leave_another_endpoint_that_has_only_just_faulted_to_MassTransit()
    {
        var verdicts = Watch(Consuming() with { OthersNotReady = ControlFaultedFor(ConsumerWatch.RestartAfter - TimeSpan.FromSeconds(1)) }, TimeSpan.FromSeconds(30));

        Assert.All(verdicts, v => Assert.Empty(v.RestartOthers));
    }
}
