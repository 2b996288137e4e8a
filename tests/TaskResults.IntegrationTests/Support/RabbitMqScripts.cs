using System.Diagnostics;

namespace TaskResults.IntegrationTests.Support;

/// <summary>scripts/rabbitmq.sh from the tests: starts, stops and kills private nodes, and runs rabbitmqctl against them.</summary>
public static class RabbitMqScripts
{
    /// <summary>Runs <c>scripts/rabbitmq.sh</c> with <paramref name="args"/>; returns its output, throws when it fails.</summary>
    public static async Task<string> Run(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot.Path, "scripts", "rabbitmq.sh"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"scripts/rabbitmq.sh {string.Join(' ', args)} failed ({process.ExitCode}): {await errors}");
        return output;
    }

    /// <summary><c>rabbitmqctl -q ARGS</c> against the node in <paramref name="directory"/> (host or 4.0 root alike).</summary>
    public static Task<string> Ctl(string directory, params string[] args) => Run(["ctl", directory, "-q", .. args]);

    /// <summary>DIR/env, written by <c>scripts/rabbitmq.sh start</c>: version, node name, ports, URI.</summary>
    public static Dictionary<string, string> Environment(string directory) =>
        File.ReadAllLines(Path.Combine(directory, "env")).Select(line => line.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);

    /// <summary>The broker version the tests start when no node is handed to them: RABBITMQ_VERSION, else 3.10.</summary>
    public static string RequestedVersion => System.Environment.GetEnvironmentVariable("RABBITMQ_VERSION") is { Length: > 0 } version ? version : "3.10";
}
