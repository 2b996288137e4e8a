using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using TaskResults.Service.Options;
using TaskResults.Service.Scheduling;

namespace TaskResults.Tests.Consumers;

public sealed class When_the_polling_schedule_is_configured
{
    private static PollingSchedule Schedule(double factor, int intervalSeconds = 5, int maxSeconds = 60) => new(Options.Create(new PollingOptions
    {
        Interval = TimeSpan.FromSeconds(intervalSeconds), BackoffFactor = factor, MaxInterval = TimeSpan.FromSeconds(maxSeconds),
        TransientRetryInterval = TimeSpan.FromSeconds(2),
    }));

    [Fact]
    public void Should_grow_the_wait_by_the_factor_up_to_the_cap()
    {
        var schedule = Schedule(factor: 2);

        Assert.Equal([5, 10, 20, 40, 60, 60], Enumerable.Range(1, 6).Select(a => schedule.AfterPending(a).TotalSeconds));
    }

    [Fact]
    public void Should_keep_the_number_of_wait_queues_small_whatever_the_factor()
    {
        var schedule = Schedule(factor: 1.1, intervalSeconds: 1, maxSeconds: 3600);

        // Two series (pending and transient) of at most 12 delays each; each still ends at the cap.
        Assert.InRange(schedule.AllDelays.Count, 2, 2 * PollingSchedule.MaxDelaysPerSeries);
        Assert.Equal(TimeSpan.FromHours(1), schedule.AfterPending(1000));
    }

    [Fact]
    public void Should_refuse_a_factor_that_would_make_a_delay_per_millisecond()
    {
        var options = new PollingOptions { BackoffFactor = 1.0001 };

        var problems = options.Validate(new ValidationContext(options)).ToList();

        Assert.Contains(problems, p => p.ErrorMessage!.Contains("BackoffFactor", StringComparison.Ordinal));
    }

    [Fact]
    public void Should_wait_at_least_the_APIs_Retry_After_rounded_up_to_a_listed_delay()
    {
        var schedule = Schedule(factor: 1);

        Assert.Equal(TimeSpan.FromSeconds(2), schedule.AfterTransientError(1, retryAfter: null));
        Assert.Equal(TimeSpan.FromSeconds(4), schedule.AfterTransientError(1, retryAfter: TimeSpan.FromSeconds(3))); // delays: 2, 4, 5, 8, …
        Assert.Equal(TimeSpan.FromSeconds(60), schedule.AfterTransientError(1, retryAfter: TimeSpan.FromMinutes(10)));
        Assert.Contains(schedule.AfterTransientError(1, TimeSpan.FromSeconds(3)), schedule.AllDelays);
    }
}
