namespace TaskResults.Service.Registry;

/// <summary>The registry in this process: one instance (the <c>check</c> command, local runs).</summary>
public sealed class InMemoryJobStore(TimeProvider clock) : IJobStore
{
    // Forgotten records are swept every this many writes, so memory follows the jobs in the retention.
    private const int SweepEvery = 1024;

    private readonly Dictionary<JobKey, JobRecord> _records = [];
    private int _writes;

    // The record itself is always at hand: a caller's guess (seen) is not needed, and versions neither.
    public Task<(T Result, StoredRecord Stored)> UpdateAsync<T>(JobKey job, Func<JobRecord?, Decision<T>> decide, StoredRecord? seen, CancellationToken cancellationToken)
    {
        lock (_records)
        {
            var now = clock.GetUtcNow();
            var record = Live(job, now);
            var decision = decide(record);
            if (decision.Write is { } write)
            {
                _records[job] = record = write;
                if (++_writes % SweepEvery == 0) Sweep(now);
            }

            return Task.FromResult((decision.Result, new StoredRecord("", record)));
        }
    }

    public Task<JobRecord?> GetAsync(JobKey job, CancellationToken cancellationToken)
    {
        lock (_records) return Task.FromResult(Live(job, clock.GetUtcNow()));
    }

    // A scan of every record: the in-memory registry holds one instance's jobs, and is read by people, not per check.
    // Newest activity first; jobs of the same millisecond by task type and id, descending, as Redis orders them.
    public Task<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken)
    {
        lock (_records)
        {
            var now = clock.GetUtcNow();
            var page = _records
                .Where(pair => pair.Value.ExpiresAt > now && pair.Value.State == query.State && (query.TaskType is null || pair.Key.TaskType == query.TaskType))
                .Select(pair => new ListedJob(pair.Key, pair.Value))
                .Where(listed => query.After is not { } after || Compare(JobCursor.Of(listed), after) < 0)
                .OrderByDescending(JobCursor.Of, Comparer<JobCursor>.Create(Compare))
                .Take(query.Limit + 1)
                .ToList();
            var more = page.Count > query.Limit;
            if (more) page.RemoveAt(query.Limit);
            return Task.FromResult(new JobPage(page, more ? JobCursor.Of(page[^1]) : null));
        }
    }

    private static int Compare(JobCursor a, JobCursor b) => a.UpdatedAt != b.UpdatedAt
        ? a.UpdatedAt.CompareTo(b.UpdatedAt)
        : string.CompareOrdinal($"{a.Job.TaskType}:{a.Job.JobId}", $"{b.Job.TaskType}:{b.Job.JobId}");

    private JobRecord? Live(JobKey job, DateTimeOffset now) =>
        _records.TryGetValue(job, out var record) && record.ExpiresAt > now ? record : null;

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (job, record) in _records.ToArray())
        {
            if (record.ExpiresAt <= now) _records.Remove(job);
        }
    }
}
