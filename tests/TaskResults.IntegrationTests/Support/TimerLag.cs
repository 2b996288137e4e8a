using System.Collections.Concurrent;
using System.Diagnostics;

namespace TaskResults.IntegrationTests.Support;

/// <summary>
/// How late this test process's own timers fire while a scenario measures intervals. The fake API is served
/// here, so a stall of this process shows in the calls' times as if the services had stalled; this tells the two apart.
/// </summary>
public sealed class TimerLag : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(5);
    private readonly TimeSpan _worthTelling;
    private readonly ConcurrentQueue<(DateTimeOffset At, TimeSpan Late)> _lags = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watching;

    private TimerLag(TimeSpan worthTelling)
    {
        _worthTelling = worthTelling;
        _watching = Task.Run(WatchAsync);
    }

    /// <summary>Starts watching; lags over <paramref name="worthTelling"/> are kept.</summary>
    public static TimerLag Start(TimeSpan worthTelling) => new(worthTelling);

    /// <summary>The lags kept so far, each at its end in ms from <paramref name="origin"/>, and the thread pool's size.</summary>
    public string Describe(DateTimeOffset origin)
    {
        ThreadPool.GetMinThreads(out var minimum, out _);
        var lags = _lags.Select(lag => $"{lag.Late.TotalMilliseconds:0} ms at ms {(lag.At - origin).TotalMilliseconds:0}").ToList();
        return $"This process's timers: {(lags.Count == 0 ? $"never more than {_worthTelling.TotalMilliseconds:0} ms late" : "late by " + string.Join(", ", lags))}; " +
               $"thread pool {ThreadPool.ThreadCount} threads (minimum {minimum})";
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _watching;
        _stop.Dispose();
    }

    private async Task WatchAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            await Task.Delay(Tick);
            var late = Stopwatch.GetElapsedTime(started) - Tick;
            if (late > _worthTelling) _lags.Enqueue((DateTimeOffset.UtcNow, late));
        }
    }
}
