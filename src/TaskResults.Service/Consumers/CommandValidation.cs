using TaskResults.Contracts;

namespace TaskResults.Service.Consumers;

/// <summary>What makes a <see cref="CheckTaskResult"/> unusable, checked before the API is called.</summary>
public static class CommandValidation
{
    /// <summary>Job ids the API hands out are short; anything longer is not one of them.</summary>
    public const int MaxJobIdLength = 256;

    /// <summary>Why the command cannot be checked, or null when it can.</summary>
    public static string? FindProblem(CheckTaskResult command) => FindJobProblem(command.JobId, command.TaskType);

    /// <summary>Why no job has this id and task type (so none is asked about), or null when one could.</summary>
    public static string? FindJobProblem(string? jobId, string? taskType)
    {
        if (FindJobIdProblem(jobId) is { } problem) return problem;
        if (taskType is null || !TaskTypes.All.Contains(taskType)) return $"TaskType must be one of {string.Join(", ", TaskTypes.All)}.";
        return null;
    }

    /// <summary>Why no API could have handed out this job id, or null when one could: the <c>check</c> command asks before it starts.</summary>
    public static string? FindJobIdProblem(string? jobId)
    {
        if (string.IsNullOrWhiteSpace(jobId)) return "JobId is empty.";
        if (jobId.Length > MaxJobIdLength) return $"JobId is {jobId.Length} characters long; at most {MaxJobIdLength} are allowed.";
        if (jobId.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))) return "JobId contains white space or control characters.";
        return null;
    }
}
