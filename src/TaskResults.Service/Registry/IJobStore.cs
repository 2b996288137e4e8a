namespace TaskResults.Service.Registry;

/// <summary>Where the registry keeps its records: an atomic read-decide-write of one job's record.</summary>
public interface IJobStore
{
    /// <summary>
    /// Asks <paramref name="decide"/> what to write (null: nothing) on the job's record, and writes it
    /// only if nobody wrote the record in between; otherwise decides again on what was written.
    /// <paramref name="seen"/> is the record as a caller last saw it (null: read it first): a decision
    /// on it counts only if its write lands, so a stale guess costs a retry, never a wrong answer.
    /// Returns the result and the record as the store now holds it (for the caller's next guess).
    /// Throws <see cref="RegistryUnavailableException"/> when the store cannot be reached.
    /// </summary>
    Task<(T Result, StoredRecord Stored)> UpdateAsync<T>(JobKey job, Func<JobRecord?, Decision<T>> decide, StoredRecord? seen, CancellationToken cancellationToken);

    /// <summary>The job's record, or null when the store has none (never known, or forgotten after the retention).</summary>
    Task<JobRecord?> GetAsync(JobKey job, CancellationToken cancellationToken);

    /// <summary>The jobs in one state (of one task type, if named), newest activity (<see cref="JobRecord.UpdatedAt"/>) first, one page.</summary>
    Task<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken);
}

/// <summary>Which jobs to list: those in <paramref name="State"/>, of <paramref name="TaskType"/> when named, from <paramref name="Offset"/> on.</summary>
public sealed record JobQuery(JobState State, string? TaskType, int Limit, int Offset = 0);

/// <summary>One page of a listing; <paramref name="NextOffset"/> is where the next page starts (null: this was the last).</summary>
public sealed record JobPage(IReadOnlyList<ListedJob> Jobs, int? NextOffset);

public readonly record struct ListedJob(JobKey Job, JobRecord Record);

/// <summary>A job's record as a store held it, with the version a write compares against ("" for no record).</summary>
public sealed record StoredRecord(string Version, JobRecord? Record)
{
    /// <summary>No record: the guess for a sender's command, whose job is usually new.</summary>
    public static readonly StoredRecord Absent = new("", null);
}

/// <summary>The store cannot be reached (Redis down, a timeout): the service goes on without it.</summary>
public sealed class RegistryUnavailableException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>Whether the call went out (then it may have been carried out, its answer lost), or failed before it did.</summary>
    public bool MayHaveLanded => InnerException is not null;
}
