using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace TaskResults.Simulator;

/// <summary>
/// Every job the simulator has been asked about. A job exists from its first query, which starts
/// its clock; what it does is chosen by the prefix of its id (<see cref="JobPattern"/>).
/// </summary>
public sealed class SimulatedJobs(IOptions<SimulatorOptions> options, TimeProvider clock, ILogger<SimulatedJobs> logger)
{
    private readonly SimulatorOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, Job> _jobs = new(StringComparer.Ordinal);

    /// <summary>What this query finds: the job's state by its clock, or the error its pattern gives.</summary>
    public Observation Query(string jobId)
    {
        var now = clock.GetUtcNow();
        var job = _jobs.GetOrAdd(jobId, _ => new Job(now));
        var query = job.CountQuery();
        var pattern = JobPattern.For(jobId);

        var observation = pattern.EveryAnswer
            ?? (query <= _options.TransientErrors ? pattern.FirstAnswers : null)
            ?? Progress(pattern.FinalStatus, now - job.FirstQueriedAt);
        logger.LogInformation("Job {JobId}, query {Query}: {Observation}", jobId, query, observation);
        return observation;
    }

    /// <summary>Whether the job's result image is served now: the job succeeded and its result has not expired.</summary>
    public bool IsResultAvailable(string jobId)
    {
        if (!_jobs.TryGetValue(jobId, out var job) || JobPattern.For(jobId) is not { EveryAnswer: null, FinalStatus: Observation.SuccessStatus }) return false;
        var finishedAt = job.FirstQueriedAt + _options.QueuedFor + _options.ProcessingFor;
        var now = clock.GetUtcNow();
        return now >= finishedAt && now < finishedAt + _options.ResultLifetime;
    }

    // A job without a final status (stuck-) processes forever.
    private Observation Progress(string? finalStatus, TimeSpan age) =>
        age < _options.QueuedFor ? new Observation.Running(Processing: false)
        : finalStatus is null || age < _options.QueuedFor + _options.ProcessingFor ? new Observation.Running(Processing: true)
        : new Observation.Finished(finalStatus);

    private sealed class Job(DateTimeOffset firstQueriedAt)
    {
        private int _queries;

        public DateTimeOffset FirstQueriedAt { get; } = firstQueriedAt;

        public int CountQuery() => Interlocked.Increment(ref _queries);
    }
}

/// <summary>What one query finds out about a job, whichever endpoint asked.</summary>
public abstract record Observation
{
    public const string SuccessStatus = "PROCESS_SUCCESS";

    /// <summary>Not finished: QUEUING, or PROCESSING when <paramref name="Processing"/>.</summary>
    public sealed record Running(bool Processing) : Observation;

    /// <summary>Finished, with the seed endpoint's final status: PROCESS_SUCCESS or one of the failures.</summary>
    public sealed record Finished(string Status) : Observation
    {
        public bool Succeeded => Status == SuccessStatus;
    }

    /// <summary>The API answers with this error instead.</summary>
    public sealed record ApiError(int HttpStatus, string Code, string Message) : Observation;

    /// <summary>A proxy in front of the API answers with an HTML page instead.</summary>
    public sealed record GatewayPage : Observation;
}

/// <summary>What a job does, by the prefix of its id. The table in README.md lists the same.</summary>
public sealed record JobPattern(string Prefix, string? FinalStatus, Observation? EveryAnswer = null, Observation? FirstAnswers = null)
{
    private static readonly JobPattern Default = new("", Observation.SuccessStatus);

    public static IReadOnlyList<JobPattern> All { get; } =
    [
        new("fail-", "PROCESS_FAILED"),
        new("timeout-", "TIMEOUT_FAILED"),
        new("retryfail-", "LIMIT_RETRY_FAILED"),
        new("stuck-", null),
        new("nocredits-", null, EveryAnswer: new Observation.ApiError(429, "ERROR_NOT_ENOUGH_CREDITS", "Not enough credits.")),
        new("gone-", null, EveryAnswer: new Observation.ApiError(404, "ERROR_RESOURCE_NOT_FOUND", "The task does not exist or has expired.")),
        new("ratelimit-", Observation.SuccessStatus, FirstAnswers: new Observation.ApiError(429, "EXCEEDING_LIMITS", "Too many requests.")),
        new("flaky-", Observation.SuccessStatus, FirstAnswers: new Observation.ApiError(503, "ERROR_RESOURCE_UNAVAILABLE", "The service is busy, try again later.")),
        new("html-", Observation.SuccessStatus, FirstAnswers: new Observation.GatewayPage()),
    ];

    public static JobPattern For(string jobId) => All.FirstOrDefault(p => jobId.StartsWith(p.Prefix, StringComparison.Ordinal)) ?? Default;
}
