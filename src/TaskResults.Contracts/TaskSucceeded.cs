using System.Text.Json;

namespace TaskResults.Contracts;

/// <summary>Event: the job finished successfully.</summary>
public record TaskSucceeded
{
    public string JobId { get; init; } = "";
    public string TaskType { get; init; } = "";

    /// <summary>The result files: <c>image_list</c>, or a one-element list holding <c>result_url</c>. Temporary: see <see cref="ResultsExpireAt"/>.</summary>
    public IReadOnlyList<string> ResultUrls { get; init; } = [];

    /// <summary>24 hours after the success was seen: the API deletes the files then.</summary>
    public DateTimeOffset ResultsExpireAt { get; init; }

    /// <summary>How many checks it took.</summary>
    public int Attempts { get; init; }

    public string? RequestId { get; init; }
    public string? LogId { get; init; }

    /// <summary>The API's whole <c>data</c> object, for subscribers that need more than the URLs.</summary>
    public JsonElement? Data { get; init; }
}
