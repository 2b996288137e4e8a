using System.Text.Json;

namespace TaskResults.Tests.Support;

/// <summary>API answers that <see cref="FakeResponse"/>'s own factories do not build.</summary>
public static class ApiAnswers
{
    /// <summary>Any JSON body, as given.</summary>
    public static FakeResponse Json(int httpStatus, object body) => new(httpStatus, JsonSerializer.Serialize(body));

    /// <summary>
    /// An error as older responses give it: HTTP 200 on the wire, the real status in <c>error_code</c>,
    /// and only the coarse <c>error_code_str</c>, no <c>error_detail</c>.
    /// </summary>
    public static FakeResponse OlderError(int errorCode, string errorCodeStr, string message) => Json(200, new Dictionary<string, object?>
    {
        ["request_id"] = "req-old",
        ["log_id"] = "log-old",
        ["error_code"] = errorCode,
        ["error_code_str"] = errorCodeStr,
        ["error_msg"] = message,
    });

    /// <summary>Drops the connection instead of answering.</summary>
    public static FakeResponse DroppedConnection { get; } = new(200, "") { Abort = true };
}
