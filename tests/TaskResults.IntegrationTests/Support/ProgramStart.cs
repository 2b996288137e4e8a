using System.Diagnostics;

namespace TaskResults.IntegrationTests.Support;

/// <summary>
/// How the process-level suites start one of the repository's programs: its build for this test run,
/// configured only through the environment the test gives it. (Linked into the CLI tests.)
/// </summary>
public static class ProgramStart
{
    // Settings a developer may have exported in the shell that runs the tests: they must not leak in.
    private static readonly string[] IsolatedPrefixes = ["AILabTools", "Polling", "MessageBus", "ConnectionStrings", "Simulator", "Telemetry", "OTEL_", "Urls", "DOTNET_ENVIRONMENT", "ASPNETCORE_",
        // Where to listen, in the other spellings ASP.NET Core reads.
        "HTTP_PORTS", "HTTPS_PORTS", "DOTNET_URLS", "DOTNET_HTTP_PORTS", "DOTNET_HTTPS_PORTS", "Kestrel"];

    /// <summary><c>dotnet src/&lt;project&gt;/bin/…/&lt;project&gt;.dll args</c>, output redirected, with <paramref name="environment"/> only.</summary>
    public static ProcessStartInfo For(string project, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot.Path, "src", project, "bin", Configuration, "net10.0", $"{project}.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var key in start.Environment.Keys.Where(k => IsolatedPrefixes.Any(p => k.StartsWith(p, StringComparison.OrdinalIgnoreCase))).ToList())
            start.Environment.Remove(key);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        return start;
    }

    // The test projects and the programs they start are built in the same configuration.
    private static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
}
