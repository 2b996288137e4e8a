using System.Text.Json;

namespace TaskResults.Service.Api;

/// <summary>
/// The public fields every AILabTools answer carries, read before any business field.
/// Every one is optional: newer responses leave the older ones out.
/// </summary>
internal sealed record PublicFields(
    string? RequestId,
    string? LogId,
    int? ErrorCode,
    int? DetailStatusCode,
    string? Code,
    string? Message)
{
    public static PublicFields Read(JsonElement root)
    {
        var detail = root.Object("error_detail");
        var errorCode = root.Int("error_code");
        return new PublicFields(
            RequestId: root.String("request_id"),
            LogId: root.String("log_id"),
            ErrorCode: errorCode,
            DetailStatusCode: detail?.Int("status_code"),
            // The precise code decides. error_code_str (older, coarser, and not part of the success
            // test) only names the error when error_code says there is one.
            Code: detail?.String("code") ?? (errorCode is not (null or 0) ? root.String("error_code_str") : null),
            Message: detail?.String("message") ?? detail?.String("code_message") ?? root.String("error_msg"));
    }

    /// <summary>Success is HTTP 2xx, error_code absent or 0, and error_detail.code empty.</summary>
    public bool IsSuccess(int httpStatus) =>
        httpStatus is >= 200 and < 300 && ErrorCode is null or 0 && Code is null;

    /// <summary>
    /// The status that describes the error. Older responses said 200 on the wire and put the real
    /// status in error_code / error_detail.status_code.
    /// </summary>
    public int StatusForClassification(int httpStatus)
    {
        if (httpStatus is < 200 or >= 300) return httpStatus;
        if (DetailStatusCode is >= 300) return DetailStatusCode.Value;
        if (ErrorCode is >= 300) return ErrorCode.Value;
        return httpStatus;
    }
}
