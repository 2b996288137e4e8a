namespace TaskResults.CliTests.Support;

/// <summary><c>TaskResults.Service check …</c> as a user runs it: its own process, configured by environment.</summary>
public static class Check
{
    /// <summary>Every run here ends in a few seconds; this only bounds a hang.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>The simulator's address and key, and polling fast enough to see each job phase a few times.</summary>
    public static Dictionary<string, string> AgainstSimulator(Simulator simulator) => new()
    {
        ["AILabTools__BaseUrl"] = simulator.BaseUrl,
        ["AILabTools__ApiKey"] = Simulator.ApiKey,
        ["Polling__Interval"] = "00:00:00.200",
        ["Polling__TransientRetryInterval"] = "00:00:00.100",
        ["Polling__MaxInterval"] = "00:00:01",
    };

    public static DotnetProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        DotnetProcess.Start("TaskResults.Service", ["check", .. args], environment);

    /// <summary>Runs to the end; fails the test if it has not ended within <see cref="Timeout"/>.</summary>
    public static async Task<CheckRun> Run(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        await using var process = Start(environment, args);
        var exitCode = await process.WaitForExit(Timeout);
        return new CheckRun(exitCode, process.Stdout, process.Stderr);
    }
}

public sealed record CheckRun(int ExitCode, IReadOnlyList<string> Stdout, IReadOnlyList<string> Stderr)
{
    /// <summary>For assertion messages: everything the run printed.</summary>
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{string.Join('\n', Stdout)}\nstderr:\n{string.Join('\n', Stderr)}";
}
