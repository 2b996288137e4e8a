namespace TaskResults.Contracts;

/// <summary>Response to <see cref="GetTaskStatus"/> and part of <see cref="TaskCancellation"/>: a job as the service's registry holds it.</summary>
public record TaskStatus
{
    public string JobId { get; init; } = "";
    public string TaskType { get; init; } = "";

    /// <summary>One of <see cref="TaskStates"/>.</summary>
    public string State { get; init; } = "";

    /// <summary>False when the service keeps no registry (<c>Registry:Store=None</c>) or cannot reach it: then <see cref="State"/> is <c>Unknown</c> and <see cref="Message"/> says why.</summary>
    public bool Available { get; init; }

    /// <summary>What the service has to say beyond the fields (why the status is not available, say).</summary>
    public string? Message { get; init; }

    /// <summary>The status the API reported last (e.g. <c>QUEUING</c>), raw.</summary>
    public string? LastStatus { get; init; }

    /// <summary>How many checks were made.</summary>
    public int Attempts { get; init; }

    /// <summary>When a pending job is checked next.</summary>
    public DateTimeOffset? NextCheckAt { get; init; }

    public DateTimeOffset? Deadline { get; init; }
    public DateTimeOffset? FirstCheckAt { get; init; }

    /// <summary>When the service last wrote what it knows of the job.</summary>
    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>A succeeded job's terminal event.</summary>
    public TaskSucceeded? Succeeded { get; init; }

    /// <summary>A failed or cancelled job's terminal event.</summary>
    public TaskFailed? Failed { get; init; }

    /// <summary>The job's trace (W3C trace id, 32 hex digits): every check of a job is in one trace.</summary>
    public string? TraceId { get; init; }

    /// <summary>The job's latest checks, oldest first (the registry keeps the last ten).</summary>
    public IReadOnlyList<TaskCheck>? Checks { get; init; }
}

/// <summary>One check of a job, as the registry remembers it.</summary>
public record TaskCheck
{
    public DateTimeOffset At { get; init; }

    /// <summary>Which check of the job this was (1 for the first).</summary>
    public int Attempt { get; init; }

    /// <summary>The status the API reported (e.g. <c>QUEUING</c>), or the failure's reason; null when the call got no answer.</summary>
    public string? Status { get; init; }

    /// <summary>One of <see cref="TaskStates"/>: what the job was after this check.</summary>
    public string State { get; init; } = "";
}

/// <summary>The values of <see cref="TaskStatus.State"/> (wire values).</summary>
public static class TaskStates
{
    public const string Pending = "Pending";
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";
    public const string Cancelled = "Cancelled";

    /// <summary>Never known, forgotten after the retention, or no registry to ask.</summary>
    public const string Unknown = "Unknown";
}
