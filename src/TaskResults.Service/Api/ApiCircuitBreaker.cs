using Microsoft.Extensions.Options;
using TaskResults.Service.Options;

namespace TaskResults.Service.Api;

/// <summary>
/// When the API is down (BreakAfterFailures failed checks in a row) the service stops calling it for
/// BreakDuration, then lets one check through to test it. Checks that arrive meanwhile wait for the
/// break to end (so the instance stops taking messages off the queue) and then go back to the broker
/// with the transient backoff: no job fails for the outage unless its deadline passes.
///
/// Every check that may call holds a <see cref="Pass"/> and reports its end with it, once: a check's
/// quick retries are one outcome, not several, and only the check holding the test pass can end
/// the test. A check let in before the break (stale) or cancelled changes nothing while it lasts.
/// </summary>
public sealed class ApiCircuitBreaker(IOptions<AILabToolsOptions> options, TimeProvider clock, ILogger<ApiCircuitBreaker> logger)
{
    private static readonly TimeSpan PollWhileOpen = TimeSpan.FromMilliseconds(250);

    private readonly object _lock = new();
    private readonly AILabToolsOptions _options = options.Value;
    private int _failuresInRow;
    private long? _openSince;
    private Pass? _trial;

    // Counts the breaks: a pass from before the current one is stale.
    private long _breaks;

    /// <summary>A check's leave to call the API; <see cref="IsTrial"/> for the one that tests it after a break.</summary>
    public sealed class Pass
    {
        internal Pass(long breaks, bool isTrial) => (Breaks, IsTrial) = (breaks, isTrial);

        internal long Breaks { get; }

        public bool IsTrial { get; }
    }

    /// <summary>How long until a call may go out (zero when calls flow).</summary>
    public TimeSpan RetryIn
    {
        get
        {
            lock (_lock)
            {
                if (_openSince is not { } since) return TimeSpan.Zero;
                var left = _options.BreakDuration - clock.GetElapsedTime(since);
                return left > TimeSpan.Zero ? left : _options.BreakDuration;
            }
        }
    }

    /// <summary>
    /// A pass when a call may go out now, or once the break ends; null when the break (or another
    /// check's test call) outlasts one BreakDuration of waiting.
    /// </summary>
    public async Task<Pass?> WaitToEnterAsync(CancellationToken cancellationToken)
    {
        var waitedSince = clock.GetTimestamp();
        for (var pass = TryEnter(); ; pass = TryEnter())
        {
            if (pass is not null) return pass;
            if (clock.GetElapsedTime(waitedSince) >= _options.BreakDuration) return null;
            await Task.Delay(PollWhileOpen, clock, cancellationToken);
        }
    }

    /// <summary>A pass when a call may go out now, else null.</summary>
    public Pass? TryEnter()
    {
        lock (_lock)
        {
            if (_openSince is not { } since) return new Pass(_breaks, isTrial: false);
            if (clock.GetElapsedTime(since) < _options.BreakDuration || _trial is not null) return null;

            // Half open: exactly one check tests the API.
            return _trial = new Pass(_breaks, isTrial: true);
        }
    }

    /// <summary>
    /// Whether the check holding <paramref name="pass"/> may retry quickly: not the test call (one
    /// call tests the API), and no check once a break has begun since it was let in.
    /// </summary>
    public bool MayRetry(Pass pass)
    {
        lock (_lock) return !pass.IsTrial && pass.Breaks == _breaks && _openSince is null;
    }

    /// <summary>The check holding <paramref name="pass"/> got an answer (anything but a server or network fault).</summary>
    public void Answered(Pass pass)
    {
        lock (_lock)
        {
            if (_openSince is not null && pass != _trial) return; // stale: the test decides
            if (_openSince is not null) logger.LogWarning("The AILabTools API answers again: calls resume");
            _failuresInRow = 0;
            _openSince = null;
            _trial = null;
        }
    }

    /// <summary>The check holding <paramref name="pass"/> failed with a server or network fault (after its quick retries).</summary>
    public void Failed(Pass pass)
    {
        lock (_lock)
        {
            if (pass == _trial)
            {
                _trial = null;
                _openSince = clock.GetTimestamp();
                _breaks++;
            }
            else if (_openSince is null && pass.Breaks == _breaks && ++_failuresInRow >= _options.BreakAfterFailures)
            {
                _openSince = clock.GetTimestamp();
                _breaks++;
                logger.LogError("The AILabTools API failed {Failures} checks in a row: pausing calls, testing it again every {BreakDuration}",
                    _failuresInRow, _options.BreakDuration);
            }
        }
    }

    /// <summary>The check holding <paramref name="pass"/> ended without an answer or a fault (cancelled): frees the test slot if it held it.</summary>
    public void Abandoned(Pass pass)
    {
        lock (_lock)
        {
            if (pass == _trial) _trial = null;
        }
    }
}
