namespace TaskResults.Service.Cli;

/// <summary>The command line cannot be used as given; the message says why, in one line.</summary>
public sealed class UsageException(string message) : Exception(message)
{
    private const int MaxShownLength = 40;

    /// <summary>
    /// A value the user gave, as a message quotes it: whole when short, else its start and "…", so
    /// an argument of 100 KB does not come back as an error line of 100 KB.
    /// </summary>
    public static string Shown(string value) => ForeignText.Excerpt(value, MaxShownLength)!;
}
