using MassTransit;
using TaskResults.Contracts;
using TaskResults.Service.Archive;

namespace TaskResults.Service.Consumers;

/// <summary>
/// Stores a succeeded job's result files (<see cref="ResultArchiver"/>) and says so: <see cref="TaskResultsArchived"/>,
/// or <see cref="TaskResultsArchiveFailed"/> when a file will never be stored or the URLs expire first. A failure
/// that may pass (the file host, the store) sends the job back to wait in the broker, with backoff.
/// </summary>
public sealed class ArchiveTaskResultsConsumer(ResultArchiver archiver, ArchiveRetries retries, TimeProvider clock, ILogger<ArchiveTaskResultsConsumer> logger)
    : IConsumer<ArchiveTaskResults>
{
    public async Task Consume(ConsumeContext<ArchiveTaskResults> context)
    {
        var job = context.Message;
        if (CommandValidation.FindJobProblem(job.JobId, job.TaskType) is { } problem)
        {
            // Only this service sends it, but anyone on the bus could: a job id that names no job names no file either.
            logger.LogWarning("An ArchiveTaskResults names no job: {Problem}", problem);
            return;
        }

        var attempt = ArchiveRetries.AttemptOf(context);
        switch (await archiver.ArchiveAsync(job, context.CancellationToken))
        {
            case Archiving.Stored stored:
                var now = clock.GetUtcNow();
                await Publish(context, new TaskResultsArchived { JobId = job.JobId, TaskType = job.TaskType, Files = stored.Files, ArchivedAt = now });
                // The success was seen when its results were given their day (CheckTaskResultConsumer.ResultLifetime).
                TaskResultsTelemetry.RecordArchived(stored.Files, now - (job.ResultsExpireAt - CheckTaskResultConsumer.ResultLifetime));
                logger.LogInformation("Job {JobId} ({TaskType}): {Count} result files archived", job.JobId, job.TaskType, stored.Files.Count);
                break;

            case Archiving.Refused refused:
                await Fail(context, refused.Reason, refused.Details, refused.Url);
                break;

            case Archiving.Failed failed:
                // The attempt's wait, or the longest shorter one that still comes before the files expire.
                var left = job.ResultsExpireAt - clock.GetUtcNow();
                var delay = ArchiveRetries.Delays.Where(wait => wait <= ArchiveRetries.DelayAfter(attempt) && wait < left).DefaultIfEmpty(TimeSpan.Zero).Max();
                if (delay == TimeSpan.Zero)
                {
                    await Fail(context, failed.StoreFailed ? ArchiveFailureReasons.StoreError : ArchiveFailureReasons.Expired,
                        $"Not stored before the results expired ({attempt} attempts); the last: {failed.Details}", null);
                    break;
                }

                logger.LogWarning("Job {JobId} ({TaskType}): archive attempt {Attempt} failed, again in {Delay}: {Problem}", job.JobId, job.TaskType, attempt, delay, failed.Details);
                await retries.RetryAsync(context, attempt + 1, delay);
                break;
        }
    }

    private async Task Fail(ConsumeContext<ArchiveTaskResults> context, string reason, string details, string? url)
    {
        var job = context.Message;
        logger.LogWarning("Job {JobId} ({TaskType}): result files not archived, {Reason}: {Details}", job.JobId, job.TaskType, reason, details);
        TaskResultsTelemetry.RecordArchiveFailure(reason);
        await Publish(context, new TaskResultsArchiveFailed { JobId = job.JobId, TaskType = job.TaskType, Reason = reason, Details = details, Url = url });
    }

    private static Task Publish<T>(ConsumeContext<ArchiveTaskResults> context, T message) where T : class =>
        context.Publish(message, publish => publish.CorrelationId = context.CorrelationId);
}
