using System.Text.Json;

namespace TaskResults.Service.Api;

/// <summary>What one call to the API says about a job: exactly one of the five cases below.</summary>
public abstract record CheckOutcome
{
    /// <summary>Where the call's answer came from; carried into events, logs and spans.</summary>
    public required ApiCallInfo Call { get; init; }

    /// <summary>The job is not finished (queued, processing, or a status the service does not know).</summary>
    public sealed record Pending(string Status) : CheckOutcome;

    /// <summary>The job finished and produced these files.</summary>
    public sealed record Succeeded(IReadOnlyList<string> ResultUrls, JsonElement? Data) : CheckOutcome;

    /// <summary>The job finished and failed: <paramref name="Reason"/> is one of FailureReasons, <paramref name="Status"/> the API's raw final status.</summary>
    public sealed record JobFailed(string Reason, string Status) : CheckOutcome;

    /// <summary>The call failed in a way that may pass (rate limit, 5xx, timeout, garbage body): ask again later.</summary>
    public sealed record TransientError(ApiError Error, TimeSpan? RetryAfter) : CheckOutcome;

    /// <summary>The call failed in a way that asking again will not fix (bad key, no credits, unknown job, bad request).</summary>
    public sealed record PermanentError(ApiError Error, ApiErrorClass Class) : CheckOutcome;
}

/// <summary>The public fields of one API answer that identify it for vendor support.</summary>
public sealed record ApiCallInfo(int? HttpStatus, string? RequestId, string? LogId)
{
    public static ApiCallInfo None { get; } = new(null, null, null);
}

/// <summary>An error as the API (or the transport) reported it. <see cref="Code"/> is the API's code when it gave one.</summary>
public sealed record ApiError(string? Code, string Message);

/// <summary>Why a permanent error is permanent: operators react differently to each.</summary>
public enum ApiErrorClass
{
    NotEnoughCredits,
    BadKeyOrAccount,
    BadRequest,
    JobNotFound,
    Other,

    /// <summary>Not a permanent error but an incident: the API redirects (AILabTools:BaseUrl is wrong); checks are held back like during an outage.</summary>
    Misconfigured,
}
