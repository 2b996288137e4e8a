namespace TaskResults.Contracts;

/// <summary>
/// Command: follow an asynchronous AILabTools job up until it finishes, then publish
/// <see cref="TaskSucceeded"/> or <see cref="TaskFailed"/>; <see cref="TaskPending"/> while it runs.
/// Send it to <see cref="TaskResultsEndpoints.CheckTaskResult"/>, or publish it.
/// </summary>
public record CheckTaskResult
{
    /// <summary>The id the asynchronous API returned when the job was submitted (<c>request_id</c>, or <c>task_id</c> for <see cref="TaskTypes.AsyncTask"/>).</summary>
    public string JobId { get; init; } = "";

    /// <summary>One of <see cref="TaskTypes"/>, spelled exactly as the API spells it.</summary>
    public string TaskType { get; init; } = "";

    /// <summary>When to stop checking. Optional: defaults to the first check plus the configured lifetime (30 minutes).</summary>
    public DateTimeOffset? Deadline { get; init; }
}
