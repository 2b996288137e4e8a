namespace TaskResults.Contracts;

/// <summary>Event: the job failed, or the service gave up on it. <see cref="Reason"/> says which.</summary>
public record TaskFailed
{
    public string JobId { get; init; } = "";
    public string TaskType { get; init; } = "";

    /// <summary>One of <see cref="FailureReasons"/>.</summary>
    public string Reason { get; init; } = "";

    /// <summary>The API's error code (<c>error_detail.code</c>, else <c>error_code_str</c>), where there is one.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>The API's text for the error, or the service's own explanation.</summary>
    public string? ErrorMessage { get; init; }

    public int? HttpStatus { get; init; }

    /// <summary>How many checks were made (0 when the command was rejected before any).</summary>
    public int Attempts { get; init; }

    public string? RequestId { get; init; }
    public string? LogId { get; init; }
}
