namespace TaskResults.Contracts;

/// <summary>Event: the job was checked and is not finished; it will be checked again at <see cref="NextCheckAt"/>.</summary>
public record TaskPending
{
    public string JobId { get; init; } = "";
    public string TaskType { get; init; } = "";

    /// <summary>The status the API reported, raw (e.g. <c>QUEUING</c>, <c>PROCESSING</c>, or one the service does not know).</summary>
    public string Status { get; init; } = "";

    /// <summary>Which check this was: 1, 2, …</summary>
    public int Attempt { get; init; }

    public DateTimeOffset NextCheckAt { get; init; }

    /// <summary>The effective deadline: after it the job is reported as <see cref="FailureReasons.DeadlineExceeded"/>.</summary>
    public DateTimeOffset Deadline { get; init; }

    public string? RequestId { get; init; }
    public string? LogId { get; init; }
}
