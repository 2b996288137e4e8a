using Microsoft.Extensions.Options;
using TaskResults.Service.Options;

namespace TaskResults.Service.Api;

/// <summary>
/// Everything between a check and the wire: the circuit breaker, the throttle, a few quick retries
/// for server or network faults, and the feedback each answer gives them. Rate-limit answers are
/// not retried here: the throttle slows down and the broker-side backoff takes over, so the two
/// kinds of retry never multiply. While the breaker is open a check waits here for the break to
/// end (holding its message, so the queue is not drained), then goes back to the broker.
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

    public async Task<CheckOutcome> CheckAsync(string jobId, string taskType, CancellationToken cancellationToken)
    {
        if (await breaker.WaitToEnterAsync(cancellationToken) is not { } pass)
        {
            return new CheckOutcome.TransientError(new ApiError(ApiErrorCodes.CircuitOpen, "Calls to the API are paused after repeated failures."), breaker.RetryIn)
            {
                Call = ApiCallInfo.None,
            };
        }

        // One pass for the whole check: its quick retries count once with the breaker.
        for (var retry = 0; ; retry++)
        {
            CheckOutcome outcome;
            try
            {
                using (await throttle.EnterAsync(cancellationToken))
                {
                    outcome = await client.CheckAsync(jobId, taskType, cancellationToken);
                }
            }
            catch
            {
                breaker.Abandoned(pass);
                throw;
            }

            incidents.Observe(outcome);
            if (outcome is not CheckOutcome.TransientError transient)
            {
                breaker.Answered(pass);
                return outcome;
            }

            if (ErrorClassifier.IsRateLimit(transient.Error.Code, transient.Call.HttpStatus))
            {
                breaker.Answered(pass);
                throttle.SlowDown();
                return outcome;
            }

            var wait = transient.RetryAfter ?? Jittered(FirstQuickRetry * Math.Pow(2, retry));
            if (retry >= options.Value.QuickRetries || wait > LongestQuickRetry)
            {
                breaker.Failed(pass);
                return outcome;
            }

            try
            {
                await Task.Delay(wait, clock, cancellationToken);
            }
            catch
            {
                breaker.Abandoned(pass);
                throw;
            }
        }
    }

    // Full jitter: a crowd of checks that failed together does not retry together.
    private static TimeSpan Jittered(TimeSpan upTo) => TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * upTo.TotalMilliseconds);
}
