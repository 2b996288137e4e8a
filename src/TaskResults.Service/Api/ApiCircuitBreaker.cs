using Microsoft.Extensions.Options;
using TaskResults.Service.Options;

namespace TaskResults.Service.Api;

/// <summary>
/// When the API is down (BreakAfterFailures server or network faults in a row) the service stops
/// calling it for BreakDuration, then lets one call through to test it. Checks that arrive meanwhile
/// wait for the break to end (so the instance stops taking messages off the queue) and then go back
/// to the broker with the transient backoff: no job fails for the outage unless its deadline passes.
/// </summary>
public sealed class ApiCircuitBreaker(IOptions<AILabToolsOptions> options, TimeProvider clock, ILogger<ApiCircuitBreaker> logger)
{
    private static readonly TimeSpan PollWhileOpen = TimeSpan.FromMilliseconds(250);

    private readonly object _lock = new();
    private readonly AILabToolsOptions _options = options.Value;
    private int _failuresInRow;
    private long? _openSince;
    private bool _trialInFlight;

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
    /// True when a call may go out now, or once the break ends; false when the break (or another
    /// check's test call) outlasts one BreakDuration of waiting.
    /// </summary>
    public async Task<bool> WaitToEnterAsync(CancellationToken cancellationToken)
    {
        var waitedSince = clock.GetTimestamp();
        while (!TryEnter())
        {
            if (clock.GetElapsedTime(waitedSince) >= _options.BreakDuration) return false;
            await Task.Delay(PollWhileOpen, clock, cancellationToken);
        }

        return true;
    }

    /// <summary>Whether a call may go out now.</summary>
    public bool TryEnter()
    {
        lock (_lock)
        {
            if (_openSince is not { } since) return true;
            if (clock.GetElapsedTime(since) < _options.BreakDuration || _trialInFlight) return false;

            // Half open: exactly one call tests the API.
            _trialInFlight = true;
            return true;
        }
    }

    /// <summary>The API answered (any answer that is not a server or network fault).</summary>
    public void Answered()
    {
        lock (_lock)
        {
            if (_openSince is not null) logger.LogWarning("The AILabTools API answers again: calls resume");
            _failuresInRow = 0;
            _openSince = null;
            _trialInFlight = false;
        }
    }

    /// <summary>A server or network fault.</summary>
    public void Failed()
    {
        lock (_lock)
        {
            _failuresInRow++;
            if (_trialInFlight)
            {
                _trialInFlight = false;
                _openSince = clock.GetTimestamp();
            }
            else if (_openSince is null && _failuresInRow >= _options.BreakAfterFailures)
            {
                _openSince = clock.GetTimestamp();
                logger.LogError("The AILabTools API failed {Failures} calls in a row: pausing calls, testing it again every {BreakDuration}",
                    _failuresInRow, _options.BreakDuration);
            }
        }
    }

    /// <summary>A call that ended without an answer or a fault (cancelled): frees the test slot it may hold.</summary>
    public void Abandoned()
    {
        lock (_lock) _trialInFlight = false;
    }
}
