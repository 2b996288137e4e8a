using System.Diagnostics;

namespace TaskResults.Service.Api;

/// <summary>
/// Wraps the API client in a client span ("ailabtools check") carrying what the API answered,
/// and records the call's duration by outcome. The HTTP span is its child.
/// </summary>
public sealed class InstrumentedTaskResultApi(AILabToolsClient inner, TimeProvider clock) : ITaskResultApi
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
