using MassTransit;
using Microsoft.Extensions.Options;
using TaskResults.Contracts;
using TaskResults.Service.Options;
using TaskResults.Service.Registry;

namespace TaskResults.Service.Consumers;

/// <summary>
/// Stops a job (<see cref="CancelTaskResult"/>): the registry marks it cancelled, its <see cref="TaskFailed"/>
/// (<see cref="FailureReasons.Cancelled"/>) goes out at once under the cancel's CorrelationId, and its chain ends at
/// its next delivery. Answers with <see cref="TaskCancellation"/> when asked as a request.
/// </summary>
public sealed class CancelTaskResultConsumer(JobChains chains, IOptions<AILabToolsOptions> api, ILogger<CancelTaskResultConsumer> logger)
    : IConsumer<CancelTaskResult>
{
    /// <summary>A reason longer than this is cut (an excerpt, control characters out): a few words for an operator, not a document.</summary>
    public const int MaxReasonLength = 500;

    public async Task Consume(ConsumeContext<CancelTaskResult> context)
    {
        var (jobId, taskType) = (context.Message.JobId, context.Message.TaskType);
        if (CommandValidation.FindJobProblem(jobId, taskType) is { } problem)
        {
            await Answer(context, CancelOutcomes.Unknown, JobStatusReport.Unusable(jobId, taskType, problem));
            return;
        }

        var job = new JobKey(taskType, jobId);
        var reason = ForeignText.Excerpt(context.Message.Reason, MaxReasonLength, api.Value.ApiKey);
        var cancelled = new TaskFailed { JobId = jobId, TaskType = taskType, Reason = FailureReasons.Cancelled, ErrorMessage = reason ?? "Cancelled." };
        var done = await chains.CancelAsync(job, cancelled, context.CancellationToken);
        if (done is not var (outcome, record))
        {
            await Answer(context, CancelOutcomes.NotAvailable, JobStatusReport.From(job, null, available: false, chains.Enabled));
            return;
        }

        if (outcome is CancelOutcome.Cancelled or CancelOutcome.AlreadyCancelled)
        {
            await context.Publish(record!.End!.Failed!, publish => publish.CorrelationId = context.CorrelationId);
            logger.LogInformation("Job {JobId} ({TaskType}) cancelled{Again}: {Reason}", jobId, taskType,
                outcome == CancelOutcome.AlreadyCancelled ? " before (its event sent again)" : "", record.End.Failed!.ErrorMessage);
        }

        await Answer(context, outcome switch
        {
            CancelOutcome.Cancelled => CancelOutcomes.Cancelled,
            CancelOutcome.AlreadyCancelled => CancelOutcomes.AlreadyCancelled,
            CancelOutcome.AlreadyFinished => CancelOutcomes.AlreadyFinished,
            _ => CancelOutcomes.Unknown,
        }, JobStatusReport.From(job, record, available: true, chains.Enabled));
    }

    // A sender may send the command without waiting for an answer: then there is nobody to answer.
    private static Task Answer(ConsumeContext<CancelTaskResult> context, string outcome, TaskResults.Contracts.TaskStatus status) =>
        context.ResponseAddress is null
            ? Task.CompletedTask
            : context.RespondAsync(new TaskCancellation { JobId = status.JobId, TaskType = status.TaskType, Outcome = outcome, Status = status });
}
