using System.Text.Json;
using TaskResults.Contracts;

namespace TaskResults.Service.Api;

/// <summary>
/// The current endpoint, <c>GET /api/common/query-async-task-result?task_id=</c>: a numeric
/// <c>task_status</c> at the top level and, once completed, a <c>data</c> object whose shape
/// depends on the API that created the task.
/// </summary>
public sealed class CommonTaskResultEndpoint : ITaskResultEndpoint
{
    public bool Handles(string taskType) => taskType == TaskTypes.AsyncTask;

    public string RelativeUri(string jobId, string taskType) =>
        $"api/common/query-async-task-result?task_id={Uri.EscapeDataString(jobId)}";

    public CheckOutcome ReadResult(JsonElement root, ApiCallInfo call)
    {
        var taskStatus = root.Int("task_status");
        switch (taskStatus)
        {
            case 0:
                return new CheckOutcome.Pending("QUEUED") { Call = call };
            case 1:
                return new CheckOutcome.Pending("PROCESSING") { Call = call };
            case 2:
                if (root.Object("data") is not { } data)
                {
                    return new CheckOutcome.TransientError(new ApiError(null, "The API reported task_status 2 without a data object."), null) { Call = call };
                }

                return new CheckOutcome.Succeeded(ResultUrls.From(data), data.Clone()) { Call = call };
            case 3:
                // Not in the endpoint's documentation; the vendor's SDK treats 3 as failed.
                return new CheckOutcome.JobFailed(FailureReasons.ProcessFailed, "3") { Call = call };
            default:
                // Unknown (or missing) value: pending until the deadline, raw value in the event.
                return new CheckOutcome.Pending(ForeignText.Excerpt(root.String("task_status") ?? "", ForeignText.SenderExcerpt)!) { Call = call };
        }
    }
}
