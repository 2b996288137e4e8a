using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using TaskResults.Contracts;
using TaskResults.Service.Scheduling;

namespace TaskResults.Service.Cli;

/// <summary>
/// Writes what happens to a check as it happens: lines for people, or with <c>--json</c> one JSON
/// object per event and line, for scripts (the event's wire fields plus <c>event</c>, its type).
/// </summary>
public sealed class CheckReport(TextWriter output, bool json, PollingSchedule schedule)
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        // The lines go to a terminal or a script, never into HTML: keep '+' and non-ASCII readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>A heading for people; nothing with <c>--json</c>, where every line is an event.</summary>
    public void Starting(CheckArguments check, DateTimeOffset? deadline, string baseUrl)
    {
        if (json) return;
        var until = deadline is { } at ? $", deadline {Time(at)}" : "";
        output.WriteLine($"checking {check.JobId} ({check.TaskType}) at {baseUrl}{until}");
    }

    // The wait the consumer scheduled, from the same schedule: NextCheckAt minus this clock would
    // also count the time the event took to arrive here.
    public void Pending(TaskPending pending) => Write(pending, () =>
        $"attempt {pending.Attempt}: {pending.Status}, next check in {Duration(schedule.AfterPending(pending.Attempt))}");

    /// <param name="sentAt">When the event was published: the expiry is counted from there, not from when the line is printed.</param>
    public void Succeeded(TaskSucceeded succeeded, DateTimeOffset sentAt) => Write(succeeded, () =>
    {
        var text = new StringBuilder($"succeeded after {Attempts(succeeded.Attempts)}");
        foreach (var url in succeeded.ResultUrls) text.Append($"\n  {url}");
        text.Append($"\nresults expire at {Time(succeeded.ResultsExpireAt)} (in {Duration(succeeded.ResultsExpireAt - sentAt)})");
        return text.ToString();
    });

    public void Failed(TaskFailed failed) => Write(failed, () =>
    {
        var after = failed.Attempts > 0 ? $" after {Attempts(failed.Attempts)}" : "";
        var code = failed.ErrorCode is { } c && c != failed.Reason ? $" {c}" : "";
        var http = failed.HttpStatus is { } status and not (>= 200 and < 300) ? $" (HTTP {status})" : "";
        var text = $"failed{after}: {failed.Reason}{code}{http}: {failed.ErrorMessage}";
        return failed.RequestId is null && failed.LogId is null
            ? text
            : $"{text}\nrequest_id {failed.RequestId}, log_id {failed.LogId} (for AILabTools support)";
    });

    private void Write<T>(T message, Func<string> text)
    {
        if (!json)
        {
            output.WriteLine(text());
            return;
        }

        var line = new JsonObject { ["event"] = typeof(T).Name };
        foreach (var (name, value) in JsonSerializer.SerializeToNode(message, JsonOptions)!.AsObject()) line[name] = value?.DeepClone();
        output.WriteLine(line.ToJsonString(JsonOptions));
    }

    private static string Attempts(int attempts) => attempts == 1 ? "1 attempt" : $"{attempts} attempts";

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>5s, 0.2s, 1m30s, 24h: short, and rounded to what a person reads.</summary>
    private static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.FromMinutes(1)) return $"{Math.Max(span.TotalSeconds, 0).ToString("0.#", CultureInfo.InvariantCulture)}s";
        span = TimeSpan.FromSeconds(Math.Round(span.TotalSeconds));
        var text = new StringBuilder();
        if (span.TotalHours >= 1) text.Append($"{(int)span.TotalHours}h");
        if (span.Minutes > 0) text.Append($"{span.Minutes}m");
        if (span.Seconds > 0 && span.TotalHours < 1) text.Append($"{span.Seconds}s");
        return text.ToString();
    }
}
