using System.Collections.Frozen;

namespace TaskResults.Service.Api;

/// <summary>
/// Sorts the API's error codes into transient and permanent, as the vendor's error table does
/// (shared/reference/ailabtools-api-facts.md, section 4). The code decides, not the HTTP status:
/// HTTP 429 is transient for EXCEEDING_LIMITS and permanent for ERROR_NOT_ENOUGH_CREDITS.
/// </summary>
public static class ErrorClassifier
{
    private static readonly FrozenSet<string> Transient = FrozenSet.ToFrozenSet(
    [
        "EXCEEDING_LIMITS", "ERROR_BATCH_TASK_LIMIT_EXCEEDED",
        "UNKNOWN_ERROR", "SERVICE_INTERNAL_ERROR", "PROCESSING_FAILURE",
        "ERROR_GATEWAY", "AI_SERVICE_ERROR", "AI_SERVICE_INTERNAL_ERROR", "FILE_SERVICE_ERROR", "ERROR_DATA_TRANSFER_FAILED",
        "AI_SERVICE_FLOW_RESTRICTION", "ERROR_INSUFFICIENT_RESOURCES", "ERROR_RESOURCE_UNAVAILABLE", "ERROR_RESOURCE_IN_TRANSIT",
        "AI_SERVICE_TIMEOUT",
    ], StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, ApiErrorClass> Permanent = new Dictionary<string, ApiErrorClass>(StringComparer.OrdinalIgnoreCase)
    {
        ["ERROR_NOT_ENOUGH_CREDITS"] = ApiErrorClass.NotEnoughCredits,
        ["ERROR_USER_NOT_EXISTS"] = ApiErrorClass.BadKeyOrAccount,
        ["ERROR_APPLICATIONS_NOT_EXISTS"] = ApiErrorClass.BadKeyOrAccount,
        ["ERROR_USER_LOCKED"] = ApiErrorClass.BadKeyOrAccount,
        ["ERROR_ILLEGAL_OPERATION"] = ApiErrorClass.BadKeyOrAccount,
        ["ERROR_PARAMETERS"] = ApiErrorClass.BadRequest,
        ["MISSING_PARAMETERS"] = ApiErrorClass.BadRequest,
        ["ERROR_INVALID_PARAMETER"] = ApiErrorClass.BadRequest,
        ["PARAMETERS_CANNOT_EMPTY"] = ApiErrorClass.BadRequest,
        ["UNSUPPORTED_PARAMETER_VALUES"] = ApiErrorClass.BadRequest,
        ["ERROR_RESOURCE_NOT_FOUND"] = ApiErrorClass.JobNotFound,
        ["ERROR_CONTENT_NOT_FOUND"] = ApiErrorClass.JobNotFound,
        ["ERROR_AI_NOT_EXISTS"] = ApiErrorClass.JobNotFound,
        ["ERROR_TASK_REVOKED"] = ApiErrorClass.JobNotFound,
        ["ERROR_RESOURCE_RECLAIMED"] = ApiErrorClass.JobNotFound,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenSet<string> RateLimit = FrozenSet.ToFrozenSet(
        ["EXCEEDING_LIMITS", "AI_SERVICE_FLOW_RESTRICTION", "ERROR_BATCH_TASK_LIMIT_EXCEEDED"], StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether the API is saying "too many calls" (a code of the table, or a bare 429).</summary>
    public static bool IsRateLimit(string? code, int? httpStatus) =>
        string.IsNullOrEmpty(code) ? httpStatus == 429 : RateLimit.Contains(code);

    /// <summary>Whether an error with this code (may be null) and HTTP status is worth asking again.</summary>
    public static bool IsTransient(string? code, int? httpStatus)
    {
        if (!string.IsNullOrEmpty(code))
        {
            if (Transient.Contains(code)) return true;
            if (Permanent.ContainsKey(code)) return false;

            // A code the table does not know: on a 4xx (429 included, which means opposite things)
            // it is permanent and keeps its raw code; on a 5xx the server is at fault.
            return httpStatus is null or >= 500;
        }

        // No code at all: only the status is left to go by. 5xx, 429 (a rate limit) and 408 are
        // worth another try; other 4xx are not.
        return httpStatus is null or >= 500 or 429 or 408;
    }

    /// <summary>Which kind of permanent error this is (for operators: one alarm per kind).</summary>
    public static ApiErrorClass ClassOf(string? code, int? httpStatus)
    {
        if (!string.IsNullOrEmpty(code) && Permanent.TryGetValue(code, out var known)) return known;
        return httpStatus switch
        {
            401 or 403 => ApiErrorClass.BadKeyOrAccount,
            400 => ApiErrorClass.BadRequest,
            404 or 410 => ApiErrorClass.JobNotFound,
            _ => ApiErrorClass.Other,
        };
    }
}
