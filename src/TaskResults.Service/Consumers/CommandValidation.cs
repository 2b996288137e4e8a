using TaskResults.Contracts;

namespace TaskResults.Service.Consumers;

/// <summary>What makes a <see cref="CheckTaskResult"/> unusable, checked before the API is called.</summary>
public static class CommandValidation
{
    /// <summary>Job ids the API hands out are short; anything longer is not one of them.</summary>
    public const int MaxJobIdLength = 256;

    /// <summary>Why the command cannot be checked, or null when it can.</summary>
    public static string? FindProblem(CheckTaskResult command)
    {
        if (string.IsNullOrWhiteSpace(command.JobId)) return "JobId is empty.";
        if (command.JobId.Length > MaxJobIdLength) return $"JobId is {command.JobId.Length} characters long; at most {MaxJobIdLength} are allowed.";
        if (command.JobId.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))) return "JobId contains white space or control characters.";
        if (!TaskTypes.All.Contains(command.TaskType)) return $"TaskType must be one of {string.Join(", ", TaskTypes.All)}.";
        return null;
    }
}
