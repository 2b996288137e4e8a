using System.Text.Json;

namespace TaskResults.Contracts;

/// <summary>Event: the job finished successfully.</summary>
public record TaskSucceeded
{
    public string JobId { get; init; } = "";
    public string TaskType { get; init; } = "";

    /// <summary>The result files: <c>image_list</c>, or a one-element list holding <c>result_url</c>. Temporary: see <see cref="ResultsExpireAt"/>.</summary>
    public IReadOnlyList<string> ResultUrls { get; init; } = [];

    /// <summary>24 hours after the check that saw the success began: the API deletes the files 24 hours after it made them, so this errs early.</summary>
    public DateTimeOffset ResultsExpireAt { get; init; }

    /// <summary>How many checks it took.</summary>
    public int Attempts { get; init; }

    public string? RequestId { get; init; }
    public string? LogId { get; init; }

    /// <summary>The API's whole <c>data</c> object, for subscribers that need more than the URLs.</summary>
    public JsonElement? Data { get; init; }
}
