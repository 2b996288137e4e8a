using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;
using TaskResults.Contracts;

namespace TaskResults.Service.Cli;

/// <summary>
/// The arguments of <c>check</c>. Parsed by hand: one argument, two options and a flag do not need
/// a parser library.
/// </summary>
public sealed partial record CheckArguments(string JobId, string TaskType, DateTimeOffset? DeadlineAt, TimeSpan? DeadlineAfter, bool Json)
{
    public const string Usage = """
        Usage: TaskResults.Service check <job-id> --type <type> [--deadline <when>] [--json]
               (from the repository: dotnet run --project src/TaskResults.Service -- check ...)

        Follows one AILabTools job until it is done, with the service's own consumer, API client and
        rescheduling on an in-memory bus (no broker), and prints every check as it happens.

          <job-id>            the request_id the async API returned (the task_id for ASYNC_TASK)
          --type <type>       HD_COLOUR_MIGRATION, GENERATE_CARTOONIZED_IMAGE or ASYNC_TASK
          --deadline <when>   give up at this time (2026-11-24T18:00:00Z) or this long after the first
                              check (90s, 5m, 1h, PT2M); default: Polling:DefaultDeadline (30 min)
          --json              print each event as one JSON object per line (camelCase; "event" names its type)
          -h, --help          show this text

        The API key is read from configuration only, never from the command line:
          AILabTools__ApiKey=<key>                                   (environment), or
          dotnet user-secrets set AILabTools:ApiKey <key> --project src/TaskResults.Service
        Everything else is configured as for the service (README, "Configuration"), e.g.
        AILabTools__BaseUrl, Polling__Interval.

        Exit codes: 0 succeeded, 1 the job failed, 2 usage or configuration error (including an
        INVALID_COMMAND), 3 the deadline passed, 130 interrupted (Ctrl+C).

        """;

    private static readonly string[] TimeFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd'T'HH:mm",
    ];

    /// <summary>Whether the arguments ask for <see cref="Usage"/>, wherever the flag stands.</summary>
    public static bool AsksForHelp(IEnumerable<string> args) => args.Any(a => a is "-h" or "--help");

    /// <summary>The command's deadline for a check that starts at <paramref name="now"/>; null for the configured default.</summary>
    public DateTimeOffset? DeadlineFrom(DateTimeOffset now) => DeadlineAt ?? now + DeadlineAfter;

    /// <summary>Reads the arguments that follow <c>check</c>.</summary>
    /// <exception cref="UsageException">The arguments are not usable; the message says why.</exception>
    public static CheckArguments Parse(IReadOnlyList<string> args)
    {
        string? jobId = null, taskType = null;
        DateTimeOffset? deadlineAt = null;
        TimeSpan? deadlineAfter = null;
        var json = false;
        for (var i = 0; i < args.Count; i++)
        {
            // --name value, or --name=value
            var (name, inlineValue) = args[i].Split('=', 2) is [var n, var v] && n.StartsWith("--") ? (n, v) : (args[i], null);
            string Value() => inlineValue ?? (i + 1 < args.Count && !args[i + 1].StartsWith("--") ? args[++i] : throw new UsageException($"{name} needs a value."));

            switch (name)
            {
                case "--json":
                    json = true;
                    break;
                case "--type":
                    taskType = Value();
                    break;
                case "--deadline":
                    (deadlineAt, deadlineAfter) = ParseDeadline(Value());
                    break;
                case var option when option.StartsWith('-'):
                    throw new UsageException($"unknown option {option}.");
                case var argument when jobId is null:
                    jobId = argument;
                    break;
                default:
                    throw new UsageException($"one job id at a time ('{jobId}' and '{args[i]}' given).");
            }
        }

        if (jobId is null) throw new UsageException("a job id is required.");
        if (taskType is null) throw new UsageException($"--type is required: {string.Join(", ", TaskTypes.All)}.");
        return new CheckArguments(jobId, taskType, deadlineAt, deadlineAfter, json);
    }

    /// <summary>An absolute ISO 8601 time (UTC unless it names an offset), or a duration.</summary>
    private static (DateTimeOffset? At, TimeSpan? After) ParseDeadline(string text)
    {
        if (ParseDuration(text) is { } duration) return (null, duration);
        if (DateTimeOffset.TryParseExact(text, TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)) return (at, null);
        throw new UsageException($"--deadline {text} is neither a time (2026-11-24T18:00:00Z) nor a duration (90s, 5m, 1h, PT2M).");
    }

    private static TimeSpan? ParseDuration(string text)
    {
        if (ShortDuration().Match(text) is { Success: true } match)
        {
            var amount = double.Parse(match.Groups["amount"].Value, CultureInfo.InvariantCulture);
            return match.Groups["unit"].Value switch
            {
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                _ => TimeSpan.FromHours(amount),
            };
        }

        if (!text.StartsWith('P')) return null;
        try
        {
            return XmlConvert.ToTimeSpan(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^(?<amount>\d+(\.\d+)?)(?<unit>[smh])$")]
    private static partial Regex ShortDuration();
}

/// <summary>The command line cannot be used as given.</summary>
public sealed class UsageException(string message) : Exception(message);
