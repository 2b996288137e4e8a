namespace TaskResults.Service.Cli;

/// <summary>
/// What <c>check</c> was asked to do, read from its command line by <see cref="CheckCommandLine"/>.
/// The deadline is a time (<paramref name="DeadlineAt"/>) or a duration from the first check
/// (<paramref name="DeadlineAfter"/>), or neither for Polling:DefaultDeadline. <paramref name="SaveTo"/>: where to download the results (--save).
/// </summary>
public sealed record CheckArguments(string JobId, string TaskType, DateTimeOffset? DeadlineAt, TimeSpan? DeadlineAfter, bool Json, string? SaveTo = null)
{
    /// <summary>The command's deadline for a check that starts at <paramref name="now"/>; null for the configured default.</summary>
    public DateTimeOffset? DeadlineFrom(DateTimeOffset now) => DeadlineAt ?? DeadlineAfter switch
    {
        null => null,
        // Parsing refused durations that end past the last representable time from then; this keeps
        // the seconds since from overflowing. Either way Polling:MaxDeadline caps it far earlier.
        { } after when after > DateTimeOffset.MaxValue - now => DateTimeOffset.MaxValue,
        { } after => now + after,
    };
}
