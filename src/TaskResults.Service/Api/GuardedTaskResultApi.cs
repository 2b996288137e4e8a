using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using TaskResults.Service.Options;

namespace TaskResults.Service.Api;

/// <summary>
/// Everything between a check and the wire: the circuit breaker, the throttle, a few quick retries
/// for server or network faults (Polly: exponential with jitter, honouring a Retry-After up to 2 s),
/// and the feedback each answer gives them. Rate-limit answers and redirects are not retried here:
/// the throttle slows down and the broker-side backoff takes over, so the two kinds of retry never
/// multiply. While the breaker is open a check waits here for the break to end (holding its
/// message, so the queue is not drained), then goes back to the broker.
/// </summary>
public sealed class GuardedTaskResultApi : ITaskResultApi
{
    private static readonly TimeSpan FirstQuickRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestQuickRetry = TimeSpan.FromSeconds(2);
    private static readonly ResiliencePropertyKey<ApiCircuitBreaker.Pass> PassKey = new("taskresults.breaker-pass");

    private readonly AILabToolsClient _client;
    private readonly ApiBudget _throttle;
    private readonly ApiCircuitBreaker _breaker;
    private readonly ApiIncidentLog _incidents;
    private readonly ResiliencePipeline<CheckOutcome> _quickRetries;

    public GuardedTaskResultApi(AILabToolsClient client, ApiBudget throttle, ApiCircuitBreaker breaker, ApiIncidentLog incidents,
        IOptions<AILabToolsOptions> options, TimeProvider clock)
    {
        (_client, _throttle, _breaker, _incidents) = (client, throttle, breaker, incidents);
        _quickRetries = options.Value.QuickRetries == 0
            ? ResiliencePipeline<CheckOutcome>.Empty
            : new ResiliencePipelineBuilder<CheckOutcome> { TimeProvider = clock }
                .AddRetry(new RetryStrategyOptions<CheckOutcome>
                {
                    MaxRetryAttempts = options.Value.QuickRetries,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = FirstQuickRetry,
                    MaxDelay = LongestQuickRetry,
                    ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is CheckOutcome.TransientError transient && IsQuicklyRetried(transient)
                        && args.Context.Properties.TryGetValue(PassKey, out var pass) && breaker.MayRetry(pass)),
                    DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is CheckOutcome.TransientError { RetryAfter: { } asked } ? asked : (TimeSpan?)null),
                })
                .Build();
    }

    public async Task<CheckOutcome> CheckAsync(string jobId, string taskType, CancellationToken cancellationToken)
    {
        if (await _breaker.WaitToEnterAsync(cancellationToken) is not { } pass)
        {
            return new CheckOutcome.TransientError(new ApiError(ApiErrorCodes.CircuitOpen, "Calls to the API are paused after repeated failures."), _breaker.RetryIn)
            {
                Call = ApiCallInfo.None,
            };
        }

        // One pass for the whole check: its quick retries count once with the breaker.
        CheckOutcome outcome;
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(PassKey, pass);
        try
        {
            outcome = await _quickRetries.ExecuteAsync(async retry => await CallAsync(jobId, taskType, retry.CancellationToken), context);
        }
        catch
        {
            _breaker.Abandoned(pass);
            throw;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        if (outcome is CheckOutcome.TransientError failed && !ErrorClassifier.IsRateLimit(failed.Error.Code, failed.Call.HttpStatus)) _breaker.Failed(pass);
        else _breaker.Answered(pass);
        return outcome;
    }

    // One call, within the rate limit, and what its answer tells the incident log and the throttle.
    private async Task<CheckOutcome> CallAsync(string jobId, string taskType, CancellationToken cancellationToken)
    {
        CheckOutcome outcome;
        using (await _throttle.AcquireAsync(1, cancellationToken))
        {
            outcome = await _client.CheckAsync(jobId, taskType, cancellationToken);
        }

        _incidents.Observe(outcome);
        if (outcome is CheckOutcome.TransientError limited && ErrorClassifier.IsRateLimit(limited.Error.Code, limited.Call.HttpStatus)) _throttle.SlowDown();
        return outcome;
    }

    // A server or network fault may pass in a moment; a rate limit, a redirect or a long Retry-After will not.
    private static bool IsQuicklyRetried(CheckOutcome.TransientError transient) =>
        !ErrorClassifier.IsRateLimit(transient.Error.Code, transient.Call.HttpStatus)
        && transient.Error.Code != ApiErrorCodes.Redirect
        && !(transient.RetryAfter > LongestQuickRetry);
}
