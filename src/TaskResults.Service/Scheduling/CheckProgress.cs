using System.Globalization;
using MassTransit;
using TaskResults.Service.Registry;

namespace TaskResults.Service.Scheduling;

/// <summary>
/// How far the checking of one job has come. It travels in headers of the rescheduled command
/// (the body stays the sender's), so nothing about a job lives in process memory.
/// </summary>
public sealed record CheckProgress(int Attempt, DateTimeOffset FirstCheckAt, DateTimeOffset Deadline, int TransientErrorsInRow, string? LastError = null)
{
    /// <summary>The chain step this delivery is (with a job registry; see Registry.ChainRules); none on a sender's command.</summary>
    public ChainLink? Chain { get; init; }

    public const string AttemptHeader = "TaskResults-Attempt";
    public const string FirstCheckAtHeader = "TaskResults-First-Check-At";
    public const string DeadlineHeader = "TaskResults-Deadline";
    public const string TransientErrorsHeader = "TaskResults-Transient-Errors";
    public const string LastErrorHeader = "TaskResults-Last-Error";
    public const string ChainHeader = "TaskResults-Chain";
    public const string ChainSinceHeader = "TaskResults-Chain-Since";

    // A chain token is 32 hex digits; the header is a claim like the others, so only a token's shape is read.
    private const int MaxChainTokenLength = 64;

    private const int MaxLastErrorLength = 300;

    /// <summary>No header can claim more checks than this (an attempt count that would overflow is a forgery).</summary>
    public const int MaxAttempts = 1_000_000;

    /// <summary>
    /// The progress of the check this delivery starts: attempt 1 for a new command, one more than
    /// the headers say for a rescheduled one. The deadline is the command's, else the first check
    /// plus <see cref="PollingSchedule.DefaultDeadline"/>, and never later than the first check plus
    /// <see cref="PollingSchedule.MaxDeadline"/>: no job is polled forever.
    ///
    /// The headers come from the bus, where anyone may write them: they are claims, clamped to what
    /// this service could have written (docs/topology.md, "Progress headers"). A first check can
    /// only lie in the last MaxDeadline, so no header makes a job checked after now + MaxDeadline;
    /// counts are bounded, text is an excerpt, and nothing read can overflow or throw.
    /// </summary>
    public static CheckProgress Begin(ConsumeContext context, DateTimeOffset? commandDeadline, DateTimeOffset now, PollingSchedule schedule)
    {
        var headers = context.Headers;
        var previousAttempts = Math.Clamp(ReadInt(headers, AttemptHeader), 0, MaxAttempts);
        var claimedFirstCheck = ReadTime(headers, FirstCheckAtHeader) ?? now;
        var earliest = now - schedule.MaxDeadline;
        var firstCheckAt = claimedFirstCheck > now ? now : claimedFirstCheck < earliest ? earliest : claimedFirstCheck;
        var wanted = ReadTime(headers, DeadlineHeader) ?? commandDeadline ?? firstCheckAt + schedule.DefaultDeadline;
        var latest = firstCheckAt + schedule.MaxDeadline;
        return new CheckProgress(
            previousAttempts + 1,
            firstCheckAt,
            wanted < latest ? wanted : latest,
            Math.Clamp(ReadInt(headers, TransientErrorsHeader), 0, MaxAttempts),
            ForeignText.Excerpt(Text(headers, LastErrorHeader), MaxLastErrorLength))
        {
            Chain = ReadChain(headers),
        };
    }

    /// <summary>What the next delivery must know after this check ended with an answer (pending).</summary>
    public CheckProgress AfterAnswer() => this with { TransientErrorsInRow = 0, LastError = null };

    /// <summary>What the next delivery must know after this check ended with a transient error: kept so a deadline can say why.</summary>
    public CheckProgress AfterTransientError(string error) => this with
    {
        TransientErrorsInRow = Math.Min(TransientErrorsInRow + 1, MaxAttempts),
        LastError = ForeignText.Excerpt(error, MaxLastErrorLength),
    };

    public void WriteTo(SendHeaders headers)
    {
        headers.Set(AttemptHeader, Attempt.ToString(CultureInfo.InvariantCulture));
        headers.Set(FirstCheckAtHeader, FirstCheckAt.ToString("O", CultureInfo.InvariantCulture));
        headers.Set(DeadlineHeader, Deadline.ToString("O", CultureInfo.InvariantCulture));
        headers.Set(TransientErrorsHeader, TransientErrorsInRow.ToString(CultureInfo.InvariantCulture));
        if (LastError is not null) headers.Set(LastErrorHeader, LastError);
        if (Chain is null) return;
        headers.Set(ChainHeader, Chain.Token);
        if (Chain.Since is not null) headers.Set(ChainSinceHeader, Chain.Since);
    }

    // A token that is not one this service could have written is no token: the delivery counts as a sender's command.
    private static ChainLink? ReadChain(Headers headers)
    {
        if (Text(headers, ChainHeader) is not { } token || !IsToken(token)) return null;
        var since = Text(headers, ChainSinceHeader);
        return since is null || since.Length == 0 || IsToken(since) ? new ChainLink(token, since) : null;
    }

    private static bool IsToken(string text) => text.Length is > 0 and <= MaxChainTokenLength && text.All(char.IsAsciiLetterOrDigit);

    // Header values come back as strings, numbers or bytes depending on the transport: read them as text.
    private static string? Text(Headers headers, string name) => headers.TryGetHeader(name, out var value)
        ? value switch
        {
            byte[] bytes => System.Text.Encoding.UTF8.GetString(bytes),
            null => null,
            _ => Convert.ToString(value, CultureInfo.InvariantCulture),
        }
        : null;

    private static int ReadInt(Headers headers, string name) =>
        int.TryParse(Text(headers, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : 0;

    private static DateTimeOffset? ReadTime(Headers headers, string name) =>
        DateTimeOffset.TryParse(Text(headers, name), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value) ? value : null;
}
