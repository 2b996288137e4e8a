using Microsoft.Extensions.Options;
using TaskResults.Service.Options;

namespace TaskResults.Service.Scheduling;

/// <summary>
/// The waits between checks. Every wait is one of <see cref="AllDelays"/>, a short fixed list, so a
/// broker can hold each delay in a queue of its own.
/// </summary>
public sealed class PollingSchedule
{
    private readonly PollingOptions _options;
    private readonly TimeSpan[] _pendingDelays;
    private readonly TimeSpan[] _transientDelays;

    public PollingSchedule(IOptions<PollingOptions> options)
    {
        _options = options.Value;
        _pendingDelays = Series(_options.Interval, _options.BackoffFactor, _options.MaxInterval);
        _transientDelays = Series(_options.TransientRetryInterval, 2.0, _options.MaxInterval);
        AllDelays = _pendingDelays.Concat(_transientDelays).Distinct().Order().ToArray();
    }

    /// <summary>Every wait this schedule can ask for, shortest first.</summary>
    public IReadOnlyList<TimeSpan> AllDelays { get; }

    public TimeSpan DefaultDeadline => _options.DefaultDeadline;

    public TimeSpan MaxDeadline => _options.MaxDeadline;

    /// <summary>The wait after the <paramref name="attempt"/>-th check said pending (1-based).</summary>
    public TimeSpan AfterPending(int attempt) => _pendingDelays[Math.Clamp(attempt - 1, 0, _pendingDelays.Length - 1)];

    /// <summary>
    /// The wait after the <paramref name="errorsInRow"/>-th transient error in a row: doubling from
    /// TransientRetryInterval, and never shorter than the API's Retry-After (rounded up to a listed delay).
    /// </summary>
    public TimeSpan AfterTransientError(int errorsInRow, TimeSpan? retryAfter)
    {
        var backoff = _transientDelays[Math.Clamp(errorsInRow - 1, 0, _transientDelays.Length - 1)];
        if (retryAfter is not { } asked || asked <= backoff) return backoff;
        return AllDelays.FirstOrDefault(d => d >= asked, AllDelays[^1]);
    }

    /// <summary>
    /// The wait to use when <paramref name="timeLeft"/> remains until the job's deadline:
    /// <paramref name="wait"/> when the check it leads to comes before the deadline; else the
    /// longest listed delay that still does (a last check), never shorter than
    /// <paramref name="notBefore"/> (the API's Retry-After); else the first listed delay past the
    /// deadline, where the job ends without another call. Every wait is a listed delay, so each
    /// waits in a queue of its own length and never behind a longer one. So the terminal event
    /// comes at most one shortest delay after the deadline, unless the API asked to wait longer.
    /// </summary>
    public TimeSpan BeforeDeadline(TimeSpan wait, TimeSpan timeLeft, TimeSpan notBefore = default)
    {
        if (wait <= timeLeft - LastCheckMargin) return wait;
        // The last check must land before the deadline, not on it: leave the dead-lettering a moment.
        var last = AllDelays.LastOrDefault(d => d <= timeLeft - LastCheckMargin && d >= notBefore);
        return last > TimeSpan.Zero ? last : AllDelays.FirstOrDefault(d => d >= timeLeft, AllDelays[^1]);
    }

    private static readonly TimeSpan LastCheckMargin = TimeSpan.FromMilliseconds(100);

    /// <summary>Each delay is a queue on the broker: a schedule never holds more than this many.</summary>
    public const int MaxDelaysPerSeries = 12;

    // start, start×factor, … up to and including max: a factor of 1 gives just [start]. At most
    // MaxDelaysPerSeries steps; the last one is always max, so the wait still reaches the cap.
    private static TimeSpan[] Series(TimeSpan start, double factor, TimeSpan max)
    {
        var delays = new List<TimeSpan> { start };
        while (factor > 1.0 && delays[^1] < max && delays.Count < MaxDelaysPerSeries - 1)
        {
            var next = TimeSpan.FromMilliseconds(Math.Ceiling(delays[^1].TotalMilliseconds * factor));
            delays.Add(next < max ? next : max);
        }

        if (factor > 1.0 && delays[^1] < max) delays.Add(max);
        return delays.ToArray();
    }
}
