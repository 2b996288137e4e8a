using Microsoft.Extensions.Options;
using TaskResults.Contracts;
using TaskResults.Service.Consumers;
using TaskResults.Service.Options;
using TaskStatus = TaskResults.Contracts.TaskStatus;

namespace TaskResults.Service.Registry;

/// <summary>
/// Stopping a job, the same on the bus and over HTTP: the registry marks it cancelled and its chain ends at its
/// next delivery. The caller publishes <see cref="Cancel.Event"/> (the job's <c>TaskFailed</c>, <c>CANCELLED</c>)
/// when there is one: at once, under its own CorrelationId.
/// </summary>
public sealed class JobCancellation(JobChains chains, IOptions<AILabToolsOptions> api, ILogger<JobCancellation> logger)
{
    /// <summary>A reason longer than this is cut (an excerpt, control characters out): a few words for an operator, not a document.</summary>
    public const int MaxReasonLength = 500;

    /// <summary>What a cancel answers, and the event to publish (null: nothing changed, nothing to publish).</summary>
    public sealed record Cancel(TaskCancellation Answer, TaskFailed? Event);

    public async Task<Cancel> CancelAsync(string? jobId, string? taskType, string? reason, CancellationToken cancellationToken)
    {
        if (CommandValidation.FindJobProblem(jobId, taskType) is { } problem)
            return Answer(CancelOutcomes.Unknown, JobStatusReport.Unusable(jobId, taskType, problem), null);

        var job = new JobKey(taskType!, jobId!);
        var said = ForeignText.Excerpt(reason, MaxReasonLength, api.Value.ApiKey);
        var cancelled = new TaskFailed { JobId = job.JobId, TaskType = job.TaskType, Reason = FailureReasons.Cancelled, ErrorMessage = said ?? "Cancelled." };
        if (await chains.CancelAsync(job, cancelled, cancellationToken) is not var (outcome, record))
            return Answer(CancelOutcomes.NotAvailable, JobStatusReport.From(job, null, available: false, chains.Enabled), null);

        TaskFailed? published = null;
        if (outcome is CancelOutcome.Cancelled or CancelOutcome.AlreadyCancelled)
        {
            published = record!.End!.Failed!;
            logger.LogInformation("Job {JobId} ({TaskType}) cancelled{Again}: {Reason}", job.JobId, job.TaskType,
                outcome == CancelOutcome.AlreadyCancelled ? " before (its event sent again)" : "", published.ErrorMessage);
        }

        return Answer(outcome switch
        {
            CancelOutcome.Cancelled => CancelOutcomes.Cancelled,
            CancelOutcome.AlreadyCancelled => CancelOutcomes.AlreadyCancelled,
            CancelOutcome.AlreadyFinished => CancelOutcomes.AlreadyFinished,
            _ => CancelOutcomes.Unknown,
        }, JobStatusReport.From(job, record, available: true, chains.Enabled), published);
    }

    private static Cancel Answer(string outcome, TaskStatus status, TaskFailed? published) =>
        new(new TaskCancellation { JobId = status.JobId, TaskType = status.TaskType, Outcome = outcome, Status = status }, published);
}
