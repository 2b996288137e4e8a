using Microsoft.Extensions.Options;
using TaskResults.Contracts;

namespace TaskResults.Service.Archive;

/// <summary>What archiving a job came to.</summary>
public abstract record Archiving
{
    private Archiving()
    {
    }

    public sealed record Stored(IReadOnlyList<ArchivedFile> Files) : Archiving;

    /// <summary>A file will never be stored: the job's archiving ends here.</summary>
    public sealed record Refused(string Reason, string Details, string Url) : Archiving;

    /// <summary>The file host or the store failed this time (<paramref name="StoreFailed"/>: the store): try again later.</summary>
    public sealed record Failed(string Details, bool StoreFailed) : Archiving;
}

/// <summary>
/// Stores every result file of a job under a key of its own (<see cref="ArchiveKeys"/>): downloaded to a local copy,
/// then stored unless the store already holds the same bytes (same size and SHA-256), so archiving a job again
/// uploads nothing and names the same locations.
/// </summary>
public sealed class ResultArchiver(ResultDownloader downloader, IResultStore store, IOptions<ArchiveOptions> options, TimeProvider clock, ILogger<ResultArchiver> logger)
{
    // Local copies live apart, in the temp directory or where the store wants them: what a killed process left behind
    // is swept when the next one starts.
    private readonly Lazy<string> _copies = new(() => SweepCopies(store.CopiesDirectory ?? Path.Combine(Path.GetTempPath(), "taskresults-archive"), options.Value.Timeout));

    public async Task<Archiving> ArchiveAsync(ArchiveTaskResults job, CancellationToken cancellationToken)
    {
        var files = new List<ArchivedFile>(job.ResultUrls.Count);
        for (var n = 0; n < job.ResultUrls.Count; n++)
        {
            var url = job.ResultUrls[n];
            var copy = Path.Combine(_copies.Value, $"{Guid.NewGuid():N}.part");
            string location;
            try
            {
                Download download;
                using (var span = TaskResultsTelemetry.Source.StartActivity("archive download"))
                {
                    span?.SetTag(TaskResultsTelemetry.Tags.JobId, job.JobId).SetTag(TaskResultsTelemetry.Tags.TaskType, job.TaskType)
                        .SetTag("server.address", Uri.TryCreate(url, UriKind.Absolute, out var host) ? host.Host : null);
                    download = await downloader.DownloadAsync(url, copy, cancellationToken);
                    span?.SetTag("archive.outcome", download.GetType().Name);
                    if (download is Download.Done got) span?.SetTag("archive.bytes", got.Size);
                    else span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error);
                }

                switch (download)
                {
                    case Download.Refused refused:
                        return new Archiving.Refused(refused.Reason, refused.Details, url);
                    case Download.Failed failed:
                        return new Archiving.Failed(failed.Details, StoreFailed: false);
                    case Download.Done done:
                        var key = ArchiveKeys.For(options.Value.Prefix, job.TaskType, job.JobId, n + 1, done.ContentType, url);
                        using (var span = TaskResultsTelemetry.Source.StartActivity("archive upload"))
                        {
                            span?.SetTag(TaskResultsTelemetry.Tags.JobId, job.JobId).SetTag(TaskResultsTelemetry.Tags.TaskType, job.TaskType)
                                .SetTag("archive.key", key).SetTag("archive.bytes", done.Size);
                            var held = await store.FindAsync(key, cancellationToken);
                            var same = held is not null && held.Size == done.Size && held.Sha256 == done.Sha256;
                            span?.SetTag("archive.already_stored", same);
                            location = same ? held!.Location : await store.PutAsync(key, copy, done.Size, done.Sha256, done.ContentType, cancellationToken);
                        }

                        // Counted from now, once the file is stored: a slow download before it never shortens it.
                        var read = options.Value.ReadUrlLifetime is { } lifetime ? await store.ReadUrlAsync(key, clock.GetUtcNow() + lifetime, cancellationToken) : null;
                        files.Add(new ArchivedFile
                        {
                            SourceUrl = url, Location = location, Size = done.Size, Sha256 = done.Sha256, ContentType = done.ContentType,
                            ReadUrl = read?.Url, ReadUrlExpiresAt = read?.ExpiresAt,
                        });
                        break;
                }
            }
            catch (StoreUnavailableException exception)
            {
                return new Archiving.Failed(exception.Message, StoreFailed: true);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                // What a store's SDK throws beyond its documented failures (Azure's "retry failed" AggregateException, a
                // timeout as TaskCanceledException), or the local copy's disk: tried again later, never a silent _error.
                logger.LogError(exception, "Job {JobId} ({TaskType}): archiving {Url} failed unexpectedly", job.JobId, job.TaskType, url);
                return new Archiving.Failed($"{exception.GetType().Name}: {exception.Message}", StoreFailed: true);
            }
            finally
            {
                File.Delete(copy);
            }
        }

        return new Archiving.Stored(files);
    }

    // A copy untouched for longer than a whole download may take belongs to no download in progress, here or in another instance.
    private static string SweepCopies(string copies, TimeSpan timeout)
    {
        Directory.CreateDirectory(copies);
        foreach (var stale in new DirectoryInfo(copies).EnumerateFiles("*.part").Where(file => file.LastWriteTimeUtc < DateTime.UtcNow - timeout - TimeSpan.FromMinutes(1)))
        {
            try { stale.Delete(); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        return copies;
    }
}

/// <summary>Where a result file is stored: <c>{prefix}/{taskType}/{jobId}/{n}{ext}</c>, each part escaped, so a job id (the sender's text) names one file and nothing else.</summary>
public static class ArchiveKeys
{
    private static readonly Dictionary<string, string> Extensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["image/png"] = ".png", ["image/jpeg"] = ".jpg", ["image/webp"] = ".webp", ["image/gif"] = ".gif", ["image/bmp"] = ".bmp",
        ["image/tiff"] = ".tif", ["video/mp4"] = ".mp4", ["application/json"] = ".json", ["application/zip"] = ".zip",
    };

    public static string For(string prefix, string taskType, string jobId, int n, string contentType, string url) =>
        $"{prefix.TrimEnd('/')}/{Part(taskType)}/{Part(jobId)}/{n}{Extension(contentType, url)}";

    // The content type's extension, else the URL's (letters and digits, at most five), else none.
    public static string Extension(string contentType, string url)
    {
        if (Extensions.TryGetValue(contentType, out var known)) return known;
        var path = Uri.TryCreate(url, UriKind.Absolute, out var address) ? address.AbsolutePath : "";
        var dot = path.LastIndexOf('.');
        var ext = dot >= 0 && dot > path.LastIndexOf('/') ? path[(dot + 1)..] : "";
        return ext.Length is > 0 and <= 5 && ext.All(char.IsAsciiLetterOrDigit) ? "." + ext.ToLowerInvariant() : "";
    }

    // A file name holds 255 bytes, an S3 key 1,024: a longer part keeps a readable start and a hash of the whole.
    private const int LongestPart = 200;

    /// <summary>One part of a key or a file name: escaped, never "." or "..", at most 200 characters (one text, one part).</summary>
    public static string Part(string text)
    {
        var escaped = Uri.EscapeDataString(text);
        if (escaped is "." or "..") return escaped.Replace(".", "%2E", StringComparison.Ordinal);
        if (escaped.Length <= LongestPart) return escaped;
        var start = new System.Text.StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            var next = Uri.EscapeDataString(rune.ToString());
            if (start.Length + next.Length > 64) break;
            start.Append(next);
        }

        return $"{start}-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..32]}";
    }
}
