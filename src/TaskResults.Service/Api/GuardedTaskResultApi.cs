using Microsoft.Extensions.Options;
using TaskResults.Service.Options;

namespace TaskResults.Service.Api;

/// <summary>
/// Everything between a check and the wire: the circuit breaker, the throttle, a few quick retries
/// for server or network faults, and the feedback each answer gives them. Rate-limit answers are
/// not retried here: the throttle slows down and the broker-side backoff takes over, so the two
/// kinds of retry never multiply.
/// </summary>
public sealed class GuardedTaskResultApi(
    AILabToolsClient client,
    ApiThrottle throttle,
    ApiCircuitBreaker breaker,
    ApiIncidentLog incidents,
    IOptions<AILabToolsOptions> options,
    TimeProvider clock) : ITaskResultApi
{
    private static readonly TimeSpan FirstQuickRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestQuickRetry = TimeSpan.FromSeconds(2);

    /// <summary>The API's ways of saying "too many calls".</summary>
    private static readonly HashSet<string> RateLimitCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        "EXCEEDING_LIMITS", "AI_SERVICE_FLOW_RESTRICTION", "ERROR_BATCH_TASK_LIMIT_EXCEEDED",
    };

    public async Task<CheckOutcome> CheckAsync(string jobId, string taskType, CancellationToken cancellationToken)
    {
        for (var retry = 0; ; retry++)
        {
            if (!breaker.TryEnter(out var pausedFor))
            {
                return new CheckOutcome.TransientError(new ApiError("CIRCUIT_OPEN", "Calls to the API are paused after repeated failures."), pausedFor)
                {
                    Call = ApiCallInfo.None,
                };
            }

            CheckOutcome outcome;
            using (await throttle.EnterAsync(cancellationToken))
            {
                outcome = await client.CheckAsync(jobId, taskType, cancellationToken);
            }

            incidents.Observe(outcome);
            if (outcome is not CheckOutcome.TransientError transient)
            {
                breaker.Answered();
                return outcome;
            }

            if (IsRateLimit(transient))
            {
                breaker.Answered();
                throttle.SlowDown();
                return outcome;
            }

            breaker.Failed();
            var wait = transient.RetryAfter ?? Jittered(FirstQuickRetry * Math.Pow(2, retry));
            if (retry >= options.Value.QuickRetries || wait > LongestQuickRetry) return outcome;
            await Task.Delay(wait, clock, cancellationToken);
        }
    }

    private static bool IsRateLimit(CheckOutcome.TransientError transient) =>
        transient.Error.Code is { } code ? RateLimitCodes.Contains(code) : transient.Call.HttpStatus == 429;

    // Full jitter: a crowd of checks that failed together does not retry together.
    private static TimeSpan Jittered(TimeSpan upTo) => TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * upTo.TotalMilliseconds);
}
