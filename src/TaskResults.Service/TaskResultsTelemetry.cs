using System.Diagnostics;
using System.Diagnostics.Metrics;
using TaskResults.Contracts;
using TaskResults.Service.Api;

namespace TaskResults.Service;

/// <summary>
/// The service's own activity source and meter (both named <see cref="Name"/>), its span attribute
/// names and its instruments. Nothing here ever reads the API key.
/// </summary>
public static class TaskResultsTelemetry
{
    public const string Name = "TaskResults";

    public static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);

    /// <summary>Span attributes: the job's on every span of a check, the API's where known.</summary>
    public static class Tags
    {
        public const string JobId = "job.id";
        public const string TaskType = "task.type";
        public const string Attempt = "task.attempt";
        public const string Outcome = "task.outcome";
        public const string Reason = "task.failure_reason";
        public const string ApiStatus = "ailabtools.status";
        public const string ApiErrorCode = "ailabtools.error_code";
        public const string ApiRequestId = "ailabtools.request_id";
        public const string ApiLogId = "ailabtools.log_id";

        /// <summary>The attributes a child span inherits from its parent (see <see cref="JobTagsProcessor"/>).</summary>
        public static readonly string[] Inherited = [JobId, TaskType, Attempt];
    }

    private static readonly Counter<long> Checks = Meter.CreateCounter<long>(
        "taskresults.checks", "{check}", "Checks of jobs, by outcome (pending, succeeded, failed, transient_error) and failure reason.");

    private static readonly Histogram<double> ApiDuration = Meter.CreateHistogram<double>(
        "taskresults.api.duration", "s", "Duration of calls to the AILabTools API, by outcome.");

    private static readonly Histogram<long> AttemptsPerJob = Meter.CreateHistogram<long>(
        "taskresults.job.attempts", "{check}", "Checks a job took until its terminal event, by outcome.");

    private static readonly Histogram<double> JobDuration = Meter.CreateHistogram<double>(
        "taskresults.job.duration", "s", "Time from a job's first check to its terminal event, by outcome.");

    private static readonly Counter<long> ChainSkipCount = Meter.CreateCounter<long>(
        "taskresults.chain.skipped", "{delivery}",
        "Deliveries the job registry kept from checking, by reason (duplicate, stale, lost) or answered from it (replayed).");

    /// <summary>Why a delivery did not check its job (the job registry's one chain per job).</summary>
    public static class ChainSkips
    {
        /// <summary>A command for a job whose chain is live.</summary>
        public const string Duplicate = "duplicate";

        /// <summary>A delivery that is not its chain's current step.</summary>
        public const string Stale = "stale";

        /// <summary>The next step of a cancelled job's chain: it ends there.</summary>
        public const string Cancelled = "cancelled";

        /// <summary>A delivery that checked, but another one took the chain meanwhile (a race after a crash).</summary>
        public const string Lost = "lost";

        /// <summary>A command for a finished job: its event again.</summary>
        public const string Replayed = "replayed";
    }

    private static readonly Counter<long> ArchivedFiles = Meter.CreateCounter<long>("taskresults.archive.files", "{file}", "Result files stored by the archive.");

    private static readonly Counter<long> ArchivedBytes = Meter.CreateCounter<long>("taskresults.archive.bytes", "By", "Bytes of result files stored by the archive.");

    private static readonly Counter<long> ArchiveFailures = Meter.CreateCounter<long>(
        "taskresults.archive.failures", "{job}", "Jobs whose result files were not stored, by reason (EXPIRED, NOT_FOUND, TOO_LARGE, NOT_ALLOWED, STORE_ERROR).");

    private static readonly Histogram<double> ArchiveLag = Meter.CreateHistogram<double>(
        "taskresults.archive.lag", "s", "Time from a job's success to its result files stored.");

    public static void RecordArchived(IReadOnlyList<ArchivedFile> files, TimeSpan lag)
    {
        ArchivedFiles.Add(files.Count);
        ArchivedBytes.Add(files.Sum(file => file.Size));
        ArchiveLag.Record(Math.Max(0, lag.TotalSeconds));
    }

    public static void RecordArchiveFailure(string reason) => ArchiveFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public static void RecordChainSkip(string reason) => ChainSkipCount.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Outcome names, as they appear in metrics, spans and the terminal log line.</summary>
    public static class Outcomes
    {
        public const string Pending = "pending";
        public const string Succeeded = "succeeded";
        public const string Failed = "failed";
        public const string TransientError = "transient_error";
    }

    public static string NameOf(CheckOutcome outcome) => outcome switch
    {
        CheckOutcome.Pending => Outcomes.Pending,
        CheckOutcome.Succeeded => Outcomes.Succeeded,
        CheckOutcome.TransientError => Outcomes.TransientError,
        _ => Outcomes.Failed,
    };

    /// <summary>
    /// Marks the current span (MassTransit's "process" span) as a check of this job, and the
    /// "receive" span around it, which started before the message was read.
    /// </summary>
    public static void TagCheck(Activity? activity, CheckTaskResult command, int attempt)
    {
        for (var span = activity; span is not null; span = span.Parent)
        {
            span.SetTag(Tags.JobId, command.JobId)
                .SetTag(Tags.TaskType, command.TaskType)
                .SetTag(Tags.Attempt, attempt);
            if (span.Parent is not { Kind: ActivityKind.Consumer } parent || parent.Source != span.Source) break;
        }
    }

    public static void TagApiAnswer(Activity? activity, CheckOutcome outcome)
    {
        if (activity is null) return;
        activity.SetTag(Tags.Outcome, NameOf(outcome))
            .SetTag(Tags.ApiRequestId, outcome.Call.RequestId)
            .SetTag(Tags.ApiLogId, outcome.Call.LogId);
        switch (outcome)
        {
            case CheckOutcome.Pending pending: activity.SetTag(Tags.ApiStatus, pending.Status); break;
            case CheckOutcome.JobFailed failed: activity.SetTag(Tags.ApiStatus, failed.Status); break;
            case CheckOutcome.TransientError transient: activity.SetTag(Tags.ApiErrorCode, transient.Error.Code); break;
            case CheckOutcome.PermanentError permanent:
                activity.SetTag(Tags.ApiErrorCode, permanent.Error.Code).SetStatus(ActivityStatusCode.Error, permanent.Error.Code);
                break;
        }
    }

    public static void RecordApiCall(CheckOutcome outcome, TimeSpan duration) =>
        ApiDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("outcome", NameOf(outcome)));

    /// <summary>Counts one check; <paramref name="reason"/> only for failures.</summary>
    public static void RecordCheck(string outcome, string? reason = null)
    {
        if (reason is null) Checks.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        else Checks.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("reason", reason));
    }

    /// <summary>Records a job's end: how many checks and how long since its first check.</summary>
    public static void RecordJobFinished(string outcome, int attempts, TimeSpan sinceFirstCheck)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        AttemptsPerJob.Record(attempts, tag);
        JobDuration.Record(Math.Max(sinceFirstCheck.TotalSeconds, 0), tag);
    }
}
