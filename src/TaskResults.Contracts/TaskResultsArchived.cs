namespace TaskResults.Contracts;

/// <summary>Every result file of a succeeded job is stored (<c>Archive:Store</c>): where, and what.</summary>
public record TaskResultsArchived
{
    public string JobId { get; init; } = "";
    public string TaskType { get; init; } = "";

    /// <summary>One per result URL, in the order of <see cref="TaskSucceeded.ResultUrls"/>.</summary>
    public IReadOnlyList<ArchivedFile> Files { get; init; } = [];

    public DateTimeOffset ArchivedAt { get; init; }
}

/// <summary>One stored result file.</summary>
public record ArchivedFile
{
    /// <summary>The API's (temporary) URL it was downloaded from.</summary>
    public string SourceUrl { get; init; } = "";

    /// <summary>Where it is stored: <c>file:///…</c>, <c>s3://bucket/key</c>, or the blob's URI.</summary>
    public string Location { get; init; } = "";

    public long Size { get; init; }

    /// <summary>SHA-256 of the content, lower-case hex.</summary>
    public string Sha256 { get; init; } = "";

    public string ContentType { get; init; } = "";

    /// <summary>
    /// With <c>Archive:ReadUrlLifetime</c> set (S3 and Azure Blob stores): a URL that reads the stored file without
    /// credentials until <see cref="ReadUrlExpiresAt"/> (a pre-signed S3 URL, a blob SAS URL), for subscribers that only
    /// need to fetch it. Null otherwise.
    /// </summary>
    public string? ReadUrl { get; init; }

    /// <summary>When <see cref="ReadUrl"/> stops working; null without one.</summary>
    public DateTimeOffset? ReadUrlExpiresAt { get; init; }
}

/// <summary>A succeeded job's result files could not be stored; files stored before stay where they are.</summary>
public record TaskResultsArchiveFailed
{
    public string JobId { get; init; } = "";
    public string TaskType { get; init; } = "";

    /// <summary>One of <see cref="ArchiveFailureReasons"/>.</summary>
    public string Reason { get; init; } = "";

    /// <summary>What happened, for a person (never the API key).</summary>
    public string? Details { get; init; }

    /// <summary>The result URL that could not be stored.</summary>
    public string? Url { get; init; }
}

/// <summary>The values of <see cref="TaskResultsArchiveFailed.Reason"/> (wire values).</summary>
public static class ArchiveFailureReasons
{
    /// <summary>The files could not be fetched before <see cref="ArchiveTaskResults.ResultsExpireAt"/>.</summary>
    public const string Expired = "EXPIRED";

    /// <summary>The file host answered 404, 410 or another refusal.</summary>
    public const string NotFound = "NOT_FOUND";

    /// <summary>Larger than <c>Archive:MaxBytes</c>.</summary>
    public const string TooLarge = "TOO_LARGE";

    /// <summary>The URL, or a redirect on the way, points to a host not in <c>Archive:AllowedHosts</c>: never fetched.</summary>
    public const string NotAllowed = "NOT_ALLOWED";

    /// <summary>The store kept refusing the file until the URLs expired.</summary>
    public const string StoreError = "STORE_ERROR";
}
