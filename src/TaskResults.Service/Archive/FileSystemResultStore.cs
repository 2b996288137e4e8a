using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace TaskResults.Service.Archive;

/// <summary>A directory: a key is a relative path under it. A file appears whole or not at all (put beside, then renamed).</summary>
public sealed class FileSystemResultStore(IOptions<ArchiveOptions> options) : IResultStore
{
    // "/data/archive/" and "/data/archive" are one directory.
    private readonly string _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Value.Directory ?? "."));

    /// <summary>Downloads land inside the root (no key starts with a dot): a stored file is renamed into place, not copied from /tmp.</summary>
    public string CopiesDirectory => Path.Combine(_root, ".taskresults-copies");

    public async Task<StoredFile?> FindAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        try
        {
            if (!File.Exists(path)) return null;
            await using var stored = File.OpenRead(path);
            return new StoredFile(FileUri(path), stored.Length, Convert.ToHexStringLower(await SHA256.HashDataAsync(stored, cancellationToken)));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new StoreUnavailableException($"The directory store cannot read {key}: {exception.Message}", exception);
        }
    }

    public Task<string> PutAsync(string key, string file, long size, string sha256, string contentType, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // The local copy is the archiver's to drop: moved, not copied (a rename when both are on one file system).
            var beside = $"{path}.{Guid.NewGuid():N}.part";
            File.Move(file, beside);
            File.Move(beside, path, overwrite: true);
            return Task.FromResult(FileUri(path));
        }
        catch (IOException exception)
        {
            throw new StoreUnavailableException($"The directory store cannot write {key}: {exception.Message}", exception);
        }
        catch (UnauthorizedAccessException exception)
        {
            throw new StoreUnavailableException($"The directory store may not write {key}: {exception.Message}", exception);
        }
    }

    // The file's URI, each segment escaped once: a key's parts hold '%' literally (they are escaped text), and a URI
    // made from the path as it is would read them as escapes (a job id's %2F would name another directory).
    public static string FileUri(string path) =>
        "file://" + string.Join('/', path.Split(Path.DirectorySeparatorChar).Select(Uri.EscapeDataString));

    // Keys are built of escaped parts (ArchiveKeys): still, nothing may land outside the root.
    private string PathOf(string key)
    {
        var path = Path.GetFullPath(Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar)));
        var relative = Path.GetRelativePath(_root, path);
        if (relative == "." || relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
            throw new InvalidOperationException($"The key {key} leaves the archive directory.");
        return path;
    }
}
