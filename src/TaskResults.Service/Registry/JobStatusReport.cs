using TaskResults.Contracts;
using TaskStatus = TaskResults.Contracts.TaskStatus;

namespace TaskResults.Service.Registry;

/// <summary>A job's record as others see it (<see cref="TaskStatus"/>): on the bus, and over HTTP.</summary>
public static class JobStatusReport
{
    public const string NoRegistry = "The service keeps no job registry (Registry:Store=None): it knows no job's status and cannot cancel one.";
    public const string RegistryAway = "The job registry cannot be reached now: try again later.";

    /// <summary>The status of <paramref name="job"/>: its record, or Unknown (with why, when the registry was not there to ask).</summary>
    public static TaskStatus From(JobKey job, JobRecord? record, bool available, bool registryEnabled) => record is null
        ? new TaskStatus
        {
            JobId = job.JobId,
            TaskType = job.TaskType,
            State = TaskStates.Unknown,
            Available = available,
            Message = available ? null : registryEnabled ? RegistryAway : NoRegistry,
        }
        : new TaskStatus
        {
            JobId = job.JobId,
            TaskType = job.TaskType,
            State = JobRecordChecks.WireValue(record.State),
            Available = true,
            LastStatus = record.LastStatus,
            Attempts = record.Attempts,
            NextCheckAt = record.NextCheckAt,
            Deadline = record.Deadline,
            FirstCheckAt = record.FirstCheckAt,
            UpdatedAt = record.UpdatedAt,
            Succeeded = record.End?.Succeeded,
            Failed = record.End?.Failed,
            TraceId = record.TraceId,
            Checks = record.Checks,
        };

    /// <summary>A request about a job no API could have handed out: Unknown, and why.</summary>
    public static TaskStatus Unusable(string? jobId, string? taskType, string problem) => new()
    {
        JobId = ForeignText.Excerpt(jobId, ForeignText.SenderExcerpt) ?? "",
        TaskType = ForeignText.Excerpt(taskType, ForeignText.SenderExcerpt) ?? "",
        State = TaskStates.Unknown,
        Available = true,
        Message = problem,
    };
}
