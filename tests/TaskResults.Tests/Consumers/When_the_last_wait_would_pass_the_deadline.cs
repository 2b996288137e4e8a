using Microsoft.Extensions.Options;
using TaskResults.Service.Options;
using TaskResults.Service.Scheduling;

namespace TaskResults.Tests.Consumers;

/// <summary>
/// The last wait before a deadline is the longest listed delay that still fits, so the terminal
/// event comes at most one shortest delay after the deadline, not a whole long wait after it.
/// Every wait stays a listed delay: nothing waits in a queue behind a longer message.
/// </summary>
public sealed class When_the_last_wait_would_pass_the_deadline
{
    private static readonly PollingSchedule Schedule = new(Options.Create(new PollingOptions
    {
        Interval = TimeSpan.FromSeconds(5), BackoffFactor = 2, MaxInterval = TimeSpan.FromSeconds(60), TransientRetryInterval = TimeSpan.FromSeconds(2),
    }));

    [Theory]
    [InlineData(60, 100)]
    [InlineData(60, 25)]
    [InlineData(40, 39.9)]
    [InlineData(5, 3)]
    [InlineData(60, 1)]
    [InlineData(60, 0)]
    [InlineData(60, -10)]
    public void Should_use_the_longest_listed_delay_that_fits_else_the_shortest_past_the_deadline(double waitSeconds, double leftSeconds)
    {
        var (wait, left) = (TimeSpan.FromSeconds(waitSeconds), TimeSpan.FromSeconds(leftSeconds));

        var chosen = Schedule.BeforeDeadline(wait, left);

        Assert.Contains(chosen, Schedule.AllDelays);
        if (wait <= left) Assert.Equal(wait, chosen);
        else if (Schedule.AllDelays.Any(d => d <= left)) Assert.Equal(Schedule.AllDelays.Where(d => d <= left).Max(), chosen);
        else Assert.Equal(Schedule.AllDelays[0], chosen);
        // Never more than one shortest delay past the deadline.
        Assert.True(chosen <= (left > TimeSpan.Zero ? left : TimeSpan.Zero) + Schedule.AllDelays[0], $"{chosen} with {left} left.");
    }

    [Fact]
    public void Should_still_honour_a_retry_after_the_API_asked_for()
    {
        var chosen = Schedule.BeforeDeadline(TimeSpan.FromSeconds(32), TimeSpan.FromSeconds(25), notBefore: TimeSpan.FromSeconds(30));

        Assert.True(chosen >= TimeSpan.FromSeconds(30), $"{chosen}");
    }

    [Fact]
    public async Task Should_publish_DEADLINE_EXCEEDED_soon_after_the_deadline_not_a_long_wait_after_it()
    {
        await using var service = await ServiceHarness.StartAsync(settings =>
        {
            settings["Polling:Interval"] = "00:00:00.250";
            settings["Polling:BackoffFactor"] = "2";
            settings["Polling:MaxInterval"] = "00:00:04";
        }, inactivity: TimeSpan.FromSeconds(6));
        service.Api.Script("slow", FakeResponse.Status("QUEUING"));
        var deadline = DateTimeOffset.UtcNow.AddSeconds(4);

        // Checks at about 0, 0.25, 0.75, 1.75 and 3.75 s; the next wait would be 4 s, ending 3.75 s past the deadline.
        await service.Send(new CheckTaskResult { JobId = "slow", TaskType = TaskTypes.HdColourMigration, Deadline = deadline });

        var failed = (await service.WaitFor<TaskFailed>("slow")).Context.Message;
        var late = DateTimeOffset.UtcNow - deadline;
        Assert.Equal(FailureReasons.DeadlineExceeded, failed.Reason);
        // One 250 ms step past it, with room for a loaded machine; before, 3.75 s.
        Assert.True(late < TimeSpan.FromSeconds(2), $"DEADLINE_EXCEEDED came {late} after the deadline.");
        Assert.All(service.Events<TaskPending>("slow"), p => Assert.True(p.NextCheckAt <= deadline + TimeSpan.FromMilliseconds(250) + TimeSpan.FromSeconds(1),
            $"A check was scheduled for {p.NextCheckAt:O}, long after the deadline {deadline:O}."));
    }
}
