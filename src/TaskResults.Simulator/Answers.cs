using System.Text.Json;

namespace TaskResults.Simulator;

/// <summary>
/// Answers in the API's shape: every public field of the facts page (request_id, log_id,
/// error_code, error_code_str, error_msg, error_detail) beside the endpoint's business fields.
/// </summary>
public static class Answers
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private const string GatewayPageHtml =
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";

    /// <summary><c>/api/image/asyn-task-results</c>: <c>data.status</c>, with <c>image_list</c> or <c>result_url</c> on success.</summary>
    public static IResult ForImageTask(Observation observation, string type, string resultUrl) => observation switch
    {
        Observation.Running running => Success(new ImageTaskData(running.Processing ? "PROCESSING" : "QUEUING")),
        Observation.Finished { Succeeded: true } finished => Success(type == "HD_COLOUR_MIGRATION"
            ? new ImageTaskData(finished.Status) { ImageList = [resultUrl] }
            : new ImageTaskData(finished.Status) { ResultUrl = resultUrl }),
        Observation.Finished finished => Success(new ImageTaskData(finished.Status)),
        _ => Failure(observation),
    };

    /// <summary>
    /// <c>/api/common/query-async-task-result</c>: <c>task_status</c> 0, 1, 2 (with <c>data.result_url</c>);
    /// a failed job says 3, as the vendor's SDK expects (the docs name no failure value).
    /// </summary>
    public static IResult ForCommonTask(Observation observation, string resultUrl) => observation switch
    {
        Observation.Running running => Success(taskStatus: running.Processing ? 1 : 0),
        Observation.Finished { Succeeded: true } => Success(new CommonTaskData(resultUrl), taskStatus: 2),
        Observation.Finished => Success(taskStatus: 3),
        _ => Failure(observation),
    };

    public static IResult Error(int httpStatus, string code, string message)
    {
        var answer = new ApiAnswer
        {
            ErrorCode = httpStatus,
            ErrorCodeStr = code,
            ErrorMsg = message,
            ErrorDetail = new ErrorDetail(httpStatus, code, message, message),
        };
        return Results.Json(answer, Json, statusCode: httpStatus);
    }

    private static IResult Failure(Observation observation) => observation switch
    {
        Observation.ApiError error => Error(error.HttpStatus, error.Code, error.Message),
        Observation.GatewayPage => Results.Content(GatewayPageHtml, "text/html", statusCode: 502),
        _ => throw new ArgumentOutOfRangeException(nameof(observation), observation, "Not a failure."),
    };

    private static IResult Success(object? data = null, int? taskStatus = null) =>
        Results.Json(new ApiAnswer { Data = data, TaskStatus = taskStatus }, Json);

    private sealed record ApiAnswer
    {
        public string RequestId { get; } = Guid.NewGuid().ToString("N");
        public string LogId { get; } = Guid.NewGuid().ToString("N")[..16];
        public int ErrorCode { get; init; }
        public string ErrorCodeStr { get; init; } = "";
        public string ErrorMsg { get; init; } = "";
        public ErrorDetail ErrorDetail { get; init; } = new(200, "", "", "");
        public int? TaskStatus { get; init; }
        public object? Data { get; init; }
    }

    private sealed record ErrorDetail(int StatusCode, string Code, string CodeMessage, string Message);

    private sealed record ImageTaskData(string Status)
    {
        public IReadOnlyList<string>? ImageList { get; init; }
        public string? ResultUrl { get; init; }
    }

    private sealed record CommonTaskData(string ResultUrl);
}
