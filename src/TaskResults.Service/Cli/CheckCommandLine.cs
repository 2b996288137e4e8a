using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using TaskResults.Contracts;
using TaskResults.Service.Consumers;

namespace TaskResults.Service.Cli;

/// <summary>
/// The syntax and the help of <c>check</c>, in System.CommandLine. Its own errors are replaced with
/// ours (<see cref="Read"/>): one line each, in the words of the usage text, and checked in a fixed order.
/// </summary>
public static class CheckCommandLine
{
    private const string Description = """
        Follows one AILabTools job until it is done, with the service's own consumer, API client and
        rescheduling on an in-memory bus (no broker), and prints every check as it happens.
        From the repository: dotnet run --project src/TaskResults.Service -- check <job-id> --type <type>
        """;

    private const string ConfigurationAndExitCodes = """
        The API key is read from configuration only, never from the command line:
          AILabTools__ApiKey=<key>                                   (environment), or
          dotnet user-secrets set AILabTools:ApiKey <key> --project src/TaskResults.Service
        Everything else is configured as for the service (README, "Configuration"), e.g.
        AILabTools__BaseUrl, Polling__Interval.

        Exit codes: 0 succeeded, 1 the job failed, 2 usage or configuration error (including an
        INVALID_COMMAND), 3 the deadline passed, 4 succeeded but --save could not download the
        results, 130 interrupted (Ctrl+C).
        """;

    private const int HelpWidth = 100;

    private static readonly Argument<string> JobIdArgument = new("job-id")
    {
        Description = "the request_id the async API returned (the task_id for ASYNC_TASK)",
    };

    private static readonly Option<string> TypeOption = new("--type")
    {
        HelpName = "type",
        // For the help; Read says so first, in its own words.
        Required = true,
        Description = string.Join(", ", TaskTypes.All),
    };

    private static readonly Option<string> DeadlineOption = new("--deadline")
    {
        HelpName = "when",
        Description = "give up at this time (2026-11-24T18:00:00Z) or this long after the first check (90s, 5m, 1h, PT2M); "
            + "default: Polling:DefaultDeadline (30 min); never later than Polling:MaxDeadline (24h)",
    };

    private static readonly Option<string> SaveOption = new("--save")
    {
        HelpName = "dir",
        Description = "when the job succeeds, download its results into this directory (from Archive:AllowedHosts only), "
            + "with progress on stderr, and print where they are",
    };

    private static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "print each event as one JSON object per line (camelCase; \"event\" names its type)",
    };

    private static readonly Option[] ValueOptions = [TypeOption, DeadlineOption, SaveOption];

    private static readonly Command Check = CreateCheck();

    /// <summary>The program, named as its usage line shows it; check is its one command here (the service takes no command).</summary>
    private static readonly Command Program = new("TaskResults.Service") { Check };

    private static readonly ParserConfiguration Parsing = new()
    {
        // A job id that starts with @ is a job id, not a file of arguments to read.
        ResponseFileTokenReplacer = null,
        // There is no short option to bundle but -h.
        EnablePosixBundling = false,
    };

    /// <summary>Parses the whole command line, <c>check</c> included: so a job id spelled "check" stays a job id.</summary>
    public static ParseResult Parse(IReadOnlyList<string> args) => Program.Parse(args, Parsing);

    /// <summary>Whether -h or --help stands anywhere, whatever else is wrong.</summary>
    public static bool AsksForHelp(ParseResult parsed) => parsed.Action is CheckHelpAction;

    /// <summary>The help of a command line that <see cref="AsksForHelp"/>.</summary>
    public static void WriteHelp(ParseResult parsed, TextWriter output) => parsed.Invoke(new InvocationConfiguration { Output = output });

    /// <summary>The arguments of a command line that does not ask for help, read at <paramref name="now"/>.</summary>
    /// <exception cref="UsageException">They are not usable; the message says why.</exception>
    public static CheckArguments Read(ParseResult parsed, DateTimeOffset now)
    {
        var jobId = parsed.GetResult(JobIdArgument)?.Tokens is [var token, ..] ? token.Value : null;

        if (parsed.UnmatchedTokens is [var unmatched, ..])
        {
            throw new UsageException(unmatched.StartsWith('-')
                ? $"unknown option {UsageException.Shown(unmatched)}."
                : $"one job id at a time ('{UsageException.Shown(jobId ?? "")}' and '{UsageException.Shown(unmatched)}' given).");
        }

        // An unknown option before any job id lands in the job id; after "--" such a job id is meant.
        if (jobId is ['-', ..] && !parsed.Tokens.Any(t => t.Type == TokenType.DoubleDash))
            throw new UsageException($"unknown option {UsageException.Shown(jobId)}.");

        foreach (var option in (Option[])[.. ValueOptions, JsonOption])
        {
            if (parsed.GetResult(option) is { IdentifierTokenCount: > 1 }) throw new UsageException($"{option.Name} is given more than once.");
        }

        foreach (var option in ValueOptions)
        {
            // System.CommandLine takes "--type --json" as the type "--json"; no value starts with "--".
            if (parsed.GetResult(option) is { IdentifierTokenCount: > 0 } given && (given.Tokens is not [var value] || value.Value.StartsWith("--", StringComparison.Ordinal)))
                throw new UsageException($"{option.Name} needs a value.");
        }

        if (jobId is null) throw new UsageException("a job id is required.");
        if (ValueOf(parsed, TypeOption) is not { } taskType) throw new UsageException($"{TypeOption.Name} is required: {string.Join(", ", TaskTypes.All)}.");
        // Checked here, not only by the consumer: a job id of 100 KB would otherwise be printed and sent first.
        if (CommandValidation.FindJobIdProblem(jobId) is { } problem) throw new UsageException(problem);

        var (deadlineAt, deadlineAfter) = ValueOf(parsed, DeadlineOption) is { } deadline ? CheckDeadline.Parse(deadline, now) : (null, null);

        // Whatever System.CommandLine finds that the checks above do not name (--json=maybe).
        if (parsed.Errors is [var error, ..]) throw new UsageException(error.Message);

        return new CheckArguments(jobId, taskType, deadlineAt, deadlineAfter, parsed.GetValue(JsonOption), ValueOf(parsed, SaveOption));
    }

    // The text as given: GetValue throws for a Required option that is missing.
    private static string? ValueOf(ParseResult parsed, Option<string> option) => parsed.GetResult(option)?.Tokens is [var token] ? token.Value : null;

    private static Command CreateCheck()
    {
        // Just -h and --help: System.CommandLine's default also takes -?, /h and /?, which the usage never named.
        var help = new HelpOption("--help", "-h") { Description = "show this text" };
        // Wrapped as the usage text was, whether a terminal or a file reads it.
        var generated = (HelpAction)help.Action!;
        generated.MaxWidth = HelpWidth;
        help.Action = new CheckHelpAction(generated, ConfigurationAndExitCodes);
        return new Command("check", Description) { JobIdArgument, TypeOption, DeadlineOption, SaveOption, JsonOption, help };
    }
}
