namespace TaskResults.Contracts;

/// <summary>The values of <see cref="TaskFailed.Reason"/> (wire values).</summary>
public static class FailureReasons
{
    /// <summary>The API reports that processing failed.</summary>
    public const string ProcessFailed = "PROCESS_FAILED";

    /// <summary>The API reports that the job timed out.</summary>
    public const string TimeoutFailed = "TIMEOUT_FAILED";

    /// <summary>The API reports that the job failed too often.</summary>
    public const string LimitRetryFailed = "LIMIT_RETRY_FAILED";

    /// <summary>The API answered with a permanent error (bad key, no credits, unknown job, bad request…): see <see cref="TaskFailed.ErrorCode"/>.</summary>
    public const string ApiError = "API_ERROR";

    /// <summary>The job was not finished by its deadline.</summary>
    public const string DeadlineExceeded = "DEADLINE_EXCEEDED";

    /// <summary>The command was unusable (empty or oversized job id, unknown task type); the API was not called.</summary>
    public const string InvalidCommand = "INVALID_COMMAND";

    /// <summary>The job was cancelled (<c>CancelTaskResult</c>); <see cref="TaskFailed.ErrorMessage"/> holds the reason given, if any.</summary>
    public const string Cancelled = "CANCELLED";
}
