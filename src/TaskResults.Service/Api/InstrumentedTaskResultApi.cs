using System.Diagnostics;

namespace TaskResults.Service.Api;

/// <summary>
/// Wraps one check's call to the API (quick retries included) in a client span ("ailabtools check")
/// carrying what the API answered, and records its duration by outcome. HTTP spans are its children.
/// </summary>
public sealed class InstrumentedTaskResultApi(ITaskResultApi inner, TimeProvider clock) : ITaskResultApi
{
    public async Task<CheckOutcome> CheckAsync(string jobId, string taskType, CancellationToken cancellationToken)
    {
        using var activity = TaskResultsTelemetry.Source.StartActivity("ailabtools check", ActivityKind.Client);
        var started = clock.GetTimestamp();
        var outcome = await inner.CheckAsync(jobId, taskType, cancellationToken);
        TaskResultsTelemetry.RecordApiCall(outcome, clock.GetElapsedTime(started));
        TaskResultsTelemetry.TagApiAnswer(activity, outcome);
        return outcome;
    }
}
