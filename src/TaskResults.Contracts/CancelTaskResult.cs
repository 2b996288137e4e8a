namespace TaskResults.Contracts;

/// <summary>
/// Command: stop following a job. A pending job's <see cref="TaskFailed"/> (reason
/// <see cref="FailureReasons.Cancelled"/>) is published at once, and its chain of checks ends at its
/// next delivery without calling the API. A finished or unknown job is left as it is. Send it to
/// <see cref="TaskResultsEndpoints.Control"/>; as a request it is answered with <see cref="TaskCancellation"/>.
/// Needs the service's job registry (<c>Registry:Store</c>).
/// </summary>
public record CancelTaskResult
{
    public string JobId { get; init; } = "";
    public string TaskType { get; init; } = "";

    /// <summary>Why, in a few words: it becomes the <see cref="TaskFailed.ErrorMessage"/>. Optional.</summary>
    public string? Reason { get; init; }
}
