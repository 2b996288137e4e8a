namespace TaskResults.Contracts;

/// <summary>
/// Store a succeeded job's result files before they expire (queue <c>archive-task-results</c>). The service sends
/// it itself when archiving is on (<c>Archive:Store</c>), right after the job's <see cref="TaskSucceeded"/>.
/// </summary>
public record ArchiveTaskResults
{
    public string JobId { get; init; } = "";
    public string TaskType { get; init; } = "";
    public IReadOnlyList<string> ResultUrls { get; init; } = [];

    /// <summary>When the API deletes the files: archiving is given up then.</summary>
    public DateTimeOffset ResultsExpireAt { get; init; }
}
