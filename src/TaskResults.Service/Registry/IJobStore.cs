namespace TaskResults.Service.Registry;

/// <summary>Where the registry keeps its records: an atomic read-decide-write of one job's record.</summary>
public interface IJobStore
{
    /// <summary>
    /// Reads the job's record, asks <paramref name="decide"/> what to write (null: nothing), and
    /// writes it only if nobody wrote the record in between; otherwise reads and decides again.
    /// Throws <see cref="RegistryUnavailableException"/> when the store cannot be reached.
    /// </summary>
    Task<T> UpdateAsync<T>(JobKey job, Func<JobRecord?, Decision<T>> decide, CancellationToken cancellationToken);

    /// <summary>The job's record, or null when the store has none (never known, or forgotten after the retention).</summary>
    Task<JobRecord?> GetAsync(JobKey job, CancellationToken cancellationToken);
}

/// <summary>The store cannot be reached (Redis down, a timeout): the service goes on without it.</summary>
public sealed class RegistryUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
