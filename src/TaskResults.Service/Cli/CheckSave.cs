using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TaskResults.Contracts;
using TaskResults.Service.Archive;

namespace TaskResults.Service.Cli;

/// <summary>
/// <c>check --save &lt;dir&gt;</c>: a succeeded job's result files downloaded into the directory, as
/// <c>{jobId}-{n}{ext}</c>, through the archive's downloader (Archive:AllowedHosts, Archive:MaxBytes), with
/// progress on stderr; each saved path printed on stdout.
/// </summary>
public static class CheckSave
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Whether every file was saved; what was not is said on stderr.</summary>
    public static async Task<bool> SaveAsync(ResultDownloader downloader, TaskSucceeded success, string directory, bool json, CancellationToken cancellationToken)
    {
        try
        {
            return await SaveAllAsync(downloader, success, directory, json, cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // The directory cannot be made or written (a file of that name, no permission, a full disk).
            await Console.Error.WriteLineAsync($"check: results not saved in {directory}: {exception.Message}");
            return false;
        }
    }

    private static async Task<bool> SaveAllAsync(ResultDownloader downloader, TaskSucceeded success, string directory, bool json, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        for (var n = 1; n <= success.ResultUrls.Count; n++)
        {
            var url = success.ResultUrls[n - 1];
            var part = Path.Combine(directory, $".{Guid.NewGuid():N}.part");
            try
            {
                var progress = new DownloadProgress(Console.Error, $"{success.JobId} {n}/{success.ResultUrls.Count}");
                var download = await downloader.DownloadAsync(url, part, cancellationToken, progress.Report);
                progress.Finish();
                if (download is not Download.Done done)
                {
                    var why = download switch { Download.Refused refused => $"{refused.Reason}: {refused.Details}", Download.Failed failed => failed.Details, _ => "" };
                    await Console.Error.WriteLineAsync($"check: {url} not saved: {why}");
                    return false;
                }

                var path = Path.GetFullPath(Path.Combine(directory, $"{ArchiveKeys.Part(success.JobId)}-{n}{ArchiveKeys.Extension(done.ContentType, url)}"));
                File.Move(part, path, overwrite: true);
                Console.Out.WriteLine(json
                    ? JsonSerializer.Serialize(new { @event = "ResultSaved", path, sourceUrl = url, size = done.Size, sha256 = done.Sha256, contentType = done.ContentType }, Json)
                    : $"saved {path} ({done.Size.ToString("N0", CultureInfo.InvariantCulture)} bytes)");
            }
            finally
            {
                File.Delete(part);
            }
        }

        return true;
    }
}

/// <summary>A download's progress on stderr: a bar redrawn in place on a terminal, one line at the end otherwise.</summary>
public sealed class DownloadProgress(TextWriter output, string name)
{
    private const int Width = 24;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _live = !Console.IsErrorRedirected;
    private TimeSpan _drawn = TimeSpan.MinValue;
    private long _bytes;
    private long? _length;

    public void Report(long bytes, long? length)
    {
        (_bytes, _length) = (bytes, length);
        // At most ten redraws a second: a fast download would spend its time drawing.
        if (!_live || _clock.Elapsed - _drawn < TimeSpan.FromMilliseconds(100)) return;
        _drawn = _clock.Elapsed;
        output.Write("\r" + Line());
    }

    public void Finish() => output.WriteLine((_live ? "\r" : "") + Line());

    private string Line()
    {
        var rate = _bytes / Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
        var bar = _length is > 0 and var total ? new string('#', (int)(Width * Math.Min(1, (double)_bytes / total))).PadRight(Width, '-') : new string('?', Width);
        return $"{name} [{bar}] {Size(_bytes)}{(_length is { } all ? " / " + Size(all) : "")}  {Size((long)rate)}/s";
    }

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => (bytes / 1024.0 / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
    };
}
