namespace TaskResults.Service.Archive;

/// <summary>A file as a store holds it: enough to tell whether storing it again would change anything.</summary>
public sealed record StoredFile(string Location, long Size, string? Sha256);

/// <summary>Where archived files go. A key is <c>{prefix}/{taskType}/{jobId}/{n}{ext}</c>, its parts safe for any store.</summary>
public interface IResultStore
{
    /// <summary>The file stored under <paramref name="key"/>, or null.</summary>
    Task<StoredFile?> FindAsync(string key, CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="file"/> (a complete local copy, which the store may move away) under <paramref name="key"/>, replacing what was there; returns where.</summary>
    Task<string> PutAsync(string key, string file, long size, string sha256, string contentType, CancellationToken cancellationToken);

    /// <summary>
    /// Where the archiver makes its local copies for this store, or null for the service's temp directory. A store on a
    /// file system names a directory on that file system: storing a copy is then a rename, never a copy across volumes.
    /// </summary>
    string? CopiesDirectory => null;

    /// <summary>
    /// A URL that reads the file stored under <paramref name="key"/> without credentials until <paramref name="expiresAt"/>
    /// (<c>Archive:ReadUrlLifetime</c>) or a little sooner where the store must, or null for a store that has none.
    /// </summary>
    Task<ReadUrl?> ReadUrlAsync(string key, DateTimeOffset expiresAt, CancellationToken cancellationToken) => Task.FromResult<ReadUrl?>(null);
}

/// <summary>A URL that reads a stored file without credentials, and when it stops working.</summary>
public sealed record ReadUrl(string Url, DateTimeOffset ExpiresAt);

/// <summary>The store failed (unreachable, refused): worth trying again later.</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
