using System.Text.Json;
using TaskResults.Contracts;

namespace TaskResults.Service.Api;

/// <summary>The seed endpoint, <c>GET /api/image/asyn-task-results?job_id=&amp;type=</c>, whose <c>data.status</c> is a string.</summary>
public sealed class ImageTaskResultEndpoint : ITaskResultEndpoint
{
    public bool Handles(string taskType) => taskType is TaskTypes.HdColourMigration or TaskTypes.GenerateCartoonizedImage;

    public string RelativeUri(string jobId, string taskType) =>
        $"api/image/asyn-task-results?job_id={Uri.EscapeDataString(jobId)}&type={Uri.EscapeDataString(taskType)}";

    public CheckOutcome ReadResult(JsonElement root, ApiCallInfo call)
    {
        if (root.Object("data") is not { } data)
        {
            return new CheckOutcome.TransientError(new ApiError(null, "The API reported success without a data object."), null) { Call = call };
        }

        var status = data.String("status") ?? "";
        return status switch
        {
            "PROCESS_SUCCESS" => new CheckOutcome.Succeeded(ResultUrls.From(data), data.Clone()) { Call = call },
            FailureReasons.ProcessFailed or FailureReasons.TimeoutFailed or FailureReasons.LimitRetryFailed =>
                new CheckOutcome.JobFailed(status, status) { Call = call },
            // QUEUING, PROCESSING, and any status the service does not know: ask again later.
            // An unknown status goes into every TaskPending: an excerpt of it, never a whole answer.
            _ => new CheckOutcome.Pending(ForeignText.Excerpt(status, ForeignText.SenderExcerpt)!) { Call = call },
        };
    }
}
