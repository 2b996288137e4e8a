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

/// <summary>Which jobs to list: those in <paramref name="State"/>, of <paramref name="TaskType"/> when named, after <paramref name="After"/> (null: from the newest).</summary>
public sealed record JobQuery(JobState State, string? TaskType, int Limit, JobCursor? After = null);

/// <summary>One page of a listing; <paramref name="Next"/> is where the next page starts (null: this was the last).</summary>
public sealed record JobPage(IReadOnlyList<ListedJob> Jobs, JobCursor? Next);

public readonly record struct ListedJob(JobKey Job, JobRecord Record);

/// <summary>
/// Where a page ended: its last job and that job's last activity (ms since 1970). The next page starts after
/// it, so jobs that finish or move meanwhile shift nothing: no job that stayed put is skipped.
/// </summary>
public sealed record JobCursor(long UpdatedAt, JobKey Job)
{
    public static JobCursor Of(ListedJob listed) => new(listed.Record.UpdatedAt.ToUnixTimeMilliseconds(), listed.Job);

    /// <summary>Opaque text for a URL.</summary>
    public override string ToString() =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{UpdatedAt}:{Job.TaskType}:{Job.JobId}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The cursor <see cref="ToString"/> wrote, or null for anything else.</summary>
    public static JobCursor? Parse(string text)
    {
        try
        {
            var padded = text.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var parts = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split(':', 3);
            return parts.Length == 3 && long.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var at)
                   && Consumers.CommandValidation.FindJobProblem(parts[2], parts[1]) is null
                ? new JobCursor(at, new JobKey(parts[1], parts[2]))
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

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
