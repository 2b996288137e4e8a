namespace TaskResults.IntegrationTests.Support;

/// <summary>
/// ASP.NET Core's "Now listening on: http://127.0.0.1:41234" line: how a harness that starts a program
/// on port 0 learns the port the system chose, instead of picking a "free" port that may be taken
/// before the program binds it. (Linked into the CLI tests.)
/// </summary>
public static class ListeningLine
{
    private const string Marker = "Now listening on: ";

    /// <summary>The line is logged at Information under this category: a harness that quiets the log keeps it.</summary>
    public static readonly KeyValuePair<string, string> KeepLogged = new("Logging__LogLevel__Microsoft.Hosting.Lifetime", "Information");

    public static bool IsOne(string line) => line.Contains(Marker, StringComparison.Ordinal);

    /// <summary>The address the line names, e.g. <c>http://127.0.0.1:41234</c> or <c>http://[::]:41234</c>.</summary>
    public static Uri Address(string line) => new(line[(line.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length)..].Trim());
}
