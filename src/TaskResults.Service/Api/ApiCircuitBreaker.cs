using Microsoft.Extensions.Options;
using TaskResults.Service.Options;

namespace TaskResults.Service.Api;

/// <summary>
/// When the API is down (BreakAfterFailures server or network faults in a row) the service stops
/// calling it for BreakDuration, then lets one call through to test it. Jobs meanwhile wait in the
/// broker with the transient-error backoff: none fails for the outage unless its deadline passes.
/// </summary>
public sealed class ApiCircuitBreaker(IOptions<AILabToolsOptions> options, TimeProvider clock, ILogger<ApiCircuitBreaker> logger)
{
    private readonly object _lock = new();
    private readonly AILabToolsOptions _options = options.Value;
    private int _failuresInRow;
    private long? _openSince;
    private bool _trialInFlight;

    /// <summary>Whether a call may go out now; when not, how long until one may.</summary>
    public bool TryEnter(out TimeSpan retryIn)
    {
        lock (_lock)
        {
            retryIn = TimeSpan.Zero;
            if (_openSince is not { } since) return true;

            var left = _options.BreakDuration - clock.GetElapsedTime(since);
            if (left > TimeSpan.Zero)
            {
                retryIn = left;
                return false;
            }

            // Half open: exactly one call tests the API.
            if (_trialInFlight)
            {
                retryIn = _options.BreakDuration;
                return false;
            }

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
}
