using Microsoft.Extensions.Options;
using System.Diagnostics;
using MassTransit;
using TaskResults.Contracts;
using TaskResults.Service.Archive;
using TaskResults.Service.Api;
using TaskResults.Service.Registry;
using TaskResults.Service.Scheduling;
using static TaskResults.Service.TaskResultsTelemetry;

namespace TaskResults.Service.Consumers;

/// <summary>
/// One check of one job: ask the API once, then publish the answer as an event and, while the job
/// runs, put the command back on the queue for later. No job waits in this process.
/// </summary>
public sealed class CheckTaskResultConsumer(
    ITaskResultApi api,
    IRecheckScheduler rechecks,
    JobChains chains,
    PollingSchedule schedule,
    TimeProvider clock,
    IOptions<ArchiveOptions> archive,
    ILogger<CheckTaskResultConsumer> logger) : IConsumer<CheckTaskResult>
{
    /// <summary>The API keeps result files this long after the job succeeded.</summary>
    public static readonly TimeSpan ResultLifetime = TimeSpan.FromHours(24);

    public async Task Consume(ConsumeContext<CheckTaskResult> context)
    {
        var command = context.Message;
        var now = clock.GetUtcNow();

        if (CommandValidation.FindProblem(command) is { } problem)
        {
            logger.LogWarning("Rejected an invalid CheckTaskResult ({Problem}); the API was not called", problem);
            RecordCheck(Outcomes.Failed, FailureReasons.InvalidCommand);
            await Publish(context, new TaskFailed
            {
                // The sender's own words, but never more than an excerpt of them to every subscriber.
                JobId = ForeignText.Excerpt(command.JobId ?? "", ForeignText.SenderExcerpt)!,
                TaskType = ForeignText.Excerpt(command.TaskType ?? "", ForeignText.SenderExcerpt)!,
                Reason = FailureReasons.InvalidCommand,
                ErrorMessage = problem,
            });
            return;
        }

        var progress = CheckProgress.Begin(context, command.Deadline, now, schedule);
        TagCheck(Activity.Current, command, progress.Attempt);

        // One chain per job (with a registry): a duplicate or a fork checks nothing, a late sender gets the event again.
        var job = new JobKey(command.TaskType, command.JobId);
        var sender = new SenderCommand(context.MessageId?.ToString("N"), context.ReceiveContext.Redelivered);
        switch (await chains.BeginAsync(job, progress, sender, now, context.CancellationToken))
        {
            case ChainStep.Check check:
                progress = progress with { Chain = check.Link };
                break;
            case ChainStep.Finished finished:
                await Replay(context, finished.End);
                return;
            case ChainStep.Cancelled cancelled:
                // The cancel published the event; again here, so that nothing is lost if that publish was.
                Skip(command, ChainSkips.Cancelled);
                await Publish(context, cancelled.End.Failed!);
                return;
            case ChainStep.Stale stale:
                Skip(command, ChainSkips.Stale, $"{progress.Chain?.Token}{(progress.Chain?.Since is { } since ? $" since {since}" : "")} against {stale.Current}");
                return;
            default:
                Skip(command, ChainSkips.Duplicate);
                return;
        }

        if (now >= progress.Deadline)
        {
            // Say why, when the API kept failing: a slow job and a broken API look alike otherwise.
            var why = progress.LastError is null ? "" : $" The last check failed: {progress.LastError}";
            await Fail(context, progress, FailureReasons.DeadlineExceeded, $"Not finished by the deadline {progress.Deadline:O}.{why}", ApiCallInfo.None);
            return;
        }

        var outcome = await api.CheckAsync(command.JobId, command.TaskType, context.CancellationToken);
        TagApiAnswer(Activity.Current, outcome);
        // Waits count from the answer: a call held by the limiter or a slow API must not bring the next check early.
        var answeredAt = clock.GetUtcNow();
        switch (outcome)
        {
            case CheckOutcome.Pending pending:
                var wait = schedule.BeforeDeadline(schedule.AfterPending(progress.Attempt), progress.Deadline - answeredAt);
                var nextCheckAt = answeredAt + wait;
                RecordCheck(Outcomes.Pending);
                if (await Advance(context, job, progress, pending.Status, nextCheckAt) is not { } afterAnswer) return;
                await Publish(context, new TaskPending
                {
                    JobId = command.JobId,
                    TaskType = command.TaskType,
                    Status = pending.Status,
                    Attempt = progress.Attempt,
                    NextCheckAt = nextCheckAt,
                    Deadline = progress.Deadline,
                    RequestId = pending.Call.RequestId,
                    LogId = pending.Call.LogId,
                });
                await rechecks.ScheduleRecheck(context, afterAnswer.AfterAnswer(), wait, nextCheckAt);
                break;

            case CheckOutcome.Succeeded succeeded:
                RecordCheck(Outcomes.Succeeded);
                var success = new TaskSucceeded
                {
                    JobId = command.JobId,
                    TaskType = command.TaskType,
                    ResultUrls = succeeded.ResultUrls,
                    // Counted from before the call: the API's clock started when the job succeeded, earlier still.
                    ResultsExpireAt = now + ResultLifetime,
                    Attempts = progress.Attempt,
                    RequestId = succeeded.Call.RequestId,
                    LogId = succeeded.Call.LogId,
                    Data = succeeded.Data,
                };
                if (!await chains.FinishAsync(job, progress.Chain, new JobEnd(success, null), progress.Attempt, context.CancellationToken))
                {
                    Skip(command, ChainSkips.Lost);
                    return;
                }

                await Publish(context, success);
                // Archiving waits in its own queue: the files are stored after the event, by whichever instance takes it.
                if (archive.Value.Enabled && success.ResultUrls.Count > 0)
                {
                    await context.Send(TaskResultsEndpoints.Archive, new ArchiveTaskResults
                    {
                        JobId = success.JobId,
                        TaskType = success.TaskType,
                        ResultUrls = success.ResultUrls,
                        ResultsExpireAt = success.ResultsExpireAt,
                    }, send => send.CorrelationId = context.CorrelationId);
                }

                LogFinished(command, progress, Outcomes.Succeeded, null);
                break;

            case CheckOutcome.JobFailed failed:
                await Fail(context, progress, failed.Reason, $"The API reported status {failed.Status}.", failed.Call, failed.Status);
                break;

            case CheckOutcome.TransientError transient:
                // Not the job failing: ask again after a backoff, without an event.
                var retry = progress.AfterTransientError($"{transient.Error.Code ?? (transient.Call.HttpStatus is { } status ? $"HTTP {status}" : "no answer")}: {transient.Error.Message}");
                var backoff = schedule.BeforeDeadline(schedule.AfterTransientError(retry.TransientErrorsInRow, transient.RetryAfter),
                    progress.Deadline - answeredAt, transient.RetryAfter ?? TimeSpan.Zero);
                RecordCheck(Outcomes.TransientError);
                if (await Advance(context, job, retry, null, answeredAt + backoff) is not { } afterError) return;
                // While calls are paused (or redirected) that was said once; one line per job would be noise.
                logger.Log(transient.Error.Code is ApiErrorCodes.CircuitOpen or ApiErrorCodes.Redirect ? LogLevel.Debug : LogLevel.Warning,
                    "Transient API error for job {JobId} ({ErrorCode}: {ErrorMessage}); checking again in {Delay}",
                    command.JobId, transient.Error.Code, transient.Error.Message, backoff);
                await rechecks.ScheduleRecheck(context, afterError, backoff, answeredAt + backoff);
                break;

            case CheckOutcome.PermanentError permanent:
                // Account-wide problems are logged loudly once per incident (ApiIncidentLog); this job's end is one line below.
                await Fail(context, progress, FailureReasons.ApiError, permanent.Error.Message, permanent.Call, permanent.Error.Code);
                break;

            default:
                throw new InvalidOperationException($"Unhandled outcome {outcome.GetType().Name}.");
        }
    }

    private async Task Fail(ConsumeContext<CheckTaskResult> context, CheckProgress progress, string reason, string message, ApiCallInfo call, string? code = null)
    {
        // A deadline is found before asking the API: that delivery made no check.
        var attempts = reason == FailureReasons.DeadlineExceeded ? progress.Attempt - 1 : progress.Attempt;
        RecordCheck(Outcomes.Failed, reason);
        Activity.Current?.SetTag(Tags.Reason, reason);
        var failure = new TaskFailed
        {
            JobId = context.Message.JobId,
            TaskType = context.Message.TaskType,
            Reason = reason,
            ErrorCode = code,
            ErrorMessage = message,
            HttpStatus = call.HttpStatus,
            Attempts = attempts,
            RequestId = call.RequestId,
            LogId = call.LogId,
        };
        if (!await chains.FinishAsync(new JobKey(context.Message.TaskType, context.Message.JobId), progress.Chain, new JobEnd(null, failure), attempts, context.CancellationToken))
        {
            Skip(context.Message, ChainSkips.Lost);
            return;
        }

        await Publish(context, failure);
        LogFinished(context.Message, progress with { Attempt = attempts }, Outcomes.Failed, reason, code);
    }

    // The job goes on: the progress its next delivery carries, or null when another delivery holds its chain.
    private async Task<CheckProgress?> Advance(ConsumeContext<CheckTaskResult> context, JobKey job, CheckProgress progress, string? status, DateTimeOffset nextCheckAt)
    {
        var (continues, next) = await chains.AdvanceAsync(job, progress.Chain,
            new PendingCheck(progress.Attempt, status, nextCheckAt, progress.Deadline, progress.FirstCheckAt), context.CancellationToken);
        if (continues) return progress with { Chain = next };
        Skip(context.Message, ChainSkips.Lost);
        return null;
    }

    // A finished job's event again, for a late sender (or the finishing delivery come again), under this command's CorrelationId.
    private async Task Replay(ConsumeContext<CheckTaskResult> context, JobEnd end)
    {
        RecordChainSkip(ChainSkips.Replayed);
        logger.LogInformation("Job {JobId} ({TaskType}) finished earlier: its {Event} sent again, the API not called",
            context.Message.JobId, context.Message.TaskType, end.Succeeded is null ? nameof(TaskFailed) : nameof(TaskSucceeded));
        if (end.Succeeded is { } succeeded) await Publish(context, succeeded);
        else await Publish(context, end.Failed!);
    }

    // A delivery that is not the job's chain: nothing to do, said at debug level (a metric counts them).
    private void Skip(CheckTaskResult command, string why, string? chains = null)
    {
        RecordChainSkip(why);
        logger.LogDebug("Job {JobId} ({TaskType}): not checked, {Why} {Chains}", command.JobId, command.TaskType, why switch
        {
            ChainSkips.Duplicate => "its chain of checks is live (a duplicate command)",
            ChainSkips.Stale => "this delivery is not its chain's current step (a fork):",
            ChainSkips.Cancelled => "the job was cancelled: its chain ends here (its TaskFailed sent again)",
            _ => "another delivery holds its chain",
        }, chains ?? "");
    }

    // The one line per finished job an operator searches for, and the job-level metrics.
    private void LogFinished(CheckTaskResult command, CheckProgress progress, string outcome, string? reason, string? errorCode = null)
    {
        var duration = clock.GetUtcNow() - progress.FirstCheckAt;
        RecordJobFinished(outcome, progress.Attempt, duration);
        logger.LogInformation("Job {JobId} ({TaskType}) finished: {Outcome} {Reason} {ErrorCode} after {Attempts} checks in {Duration}",
            command.JobId, command.TaskType, outcome, reason ?? "", errorCode ?? "", progress.Attempt, duration);
    }

    // Events keep the command's CorrelationId (ConversationId flows by itself) so a sender can match them.
    private static Task Publish<T>(ConsumeContext<CheckTaskResult> context, T message) where T : class =>
        context.Publish(message, publish => publish.CorrelationId = context.CorrelationId);
}
