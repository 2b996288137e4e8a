using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace TaskResults.Benchmarks;

/// <summary>One line of the results table.</summary>
public sealed record Row(string Scenario, string Case, string Service, string Baseline, string Result, string Notes = "");

/// <summary>The table on stdout and docs/benchmarks.md.</summary>
public static class Report
{
    public static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    /// <summary>What follows this line in docs/benchmarks.md is written by hand and kept across runs.</summary>
    public const string HandWrittenMarker = "<!-- Everything above is written by bench/run.sh; what follows is kept across runs. -->";

    public static string Table(IEnumerable<Row> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("| # | case | service | baseline / reference | result | CPU and notes |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            text.AppendLine($"| {row.Scenario} | {row.Case} | {row.Service} | {row.Baseline} | {row.Result} | {row.Notes} |");
        }

        return text.ToString();
    }

    public static string Markdown(string table, IEnumerable<string> machine, IEnumerable<string> setup, string mode, DateTimeOffset startedAt, TimeSpan took, string previous)
    {
        var text = new StringBuilder();
        text.AppendLine("# Benchmarks");
        text.AppendLine();
        text.AppendLine($"Written by `bench/run.sh{(mode == "quick" ? " --quick" : "")}` on {startedAt:yyyy-MM-dd HH:mm} UTC ({mode} run; the benchmark program took {took.TotalMinutes:0.0} min). " +
                        "See the README's \"Benchmark\" section for what each scenario does.");
        text.AppendLine();
        text.AppendLine("## Machine");
        text.AppendLine();
        foreach (var line in machine) text.AppendLine($"- {line}");
        text.AppendLine();
        text.AppendLine("## Setup");
        text.AppendLine();
        foreach (var line in setup) text.AppendLine($"- {line}");
        text.AppendLine();
        text.AppendLine("## Results");
        text.AppendLine();
        text.Append(table);
        text.AppendLine();
        text.AppendLine(HandWrittenMarker);
        var kept = previous.IndexOf(HandWrittenMarker, StringComparison.Ordinal) is var at and >= 0
            ? previous[(at + HandWrittenMarker.Length)..].TrimStart('\r', '\n')
            : "";
        if (kept.Length > 0)
        {
            text.AppendLine();
            text.Append(kept);
        }

        return text.ToString();
    }

    /// <summary>Cores, memory, OS, .NET, broker: what the figures depend on.</summary>
    public static IEnumerable<string> Machine(Rabbit rabbit, string serviceDll)
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var memory = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var memoryKb = long.Parse(memory.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], Culture);
        var os = File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? "?"
            : RuntimeInformation.OSDescription;
        var kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        var sdk = Environment.GetEnvironmentVariable("BENCH_DOTNET_SDK") ?? "?";
        var deps = Path.ChangeExtension(serviceDll, ".deps.json");
        string Package(string name) => File.Exists(deps) && Regex.Match(File.ReadAllText(deps), $"\"{Regex.Escape(name)}/([0-9][^\"]*)\"") is { Success: true } m ? m.Groups[1].Value : "?";

        yield return $"CPU: {Environment.ProcessorCount} cores ({model})";
        yield return $"Memory: {memoryKb / 1024.0 / 1024.0:0.0} GiB";
        yield return $"OS: {os}, Linux {kernel}, {RuntimeInformation.OSArchitecture}";
        var runtimeConfig = Path.ChangeExtension(serviceDll, ".runtimeconfig.json");
        string Setting(string name) => File.Exists(runtimeConfig) && Regex.Match(File.ReadAllText(runtimeConfig), $"\"{Regex.Escape(name)}\": ([^,\\s]+)") is { Success: true } m ? m.Groups[1].Value : "unset";
        var gc = Setting("System.GC.Server") == "true" ? "server" : "workstation";
        yield return $".NET: {RuntimeInformation.FrameworkDescription} (SDK {sdk}); the service runs its Release build with its runtimeconfig: {gc} GC, " +
            $"thread pool spin limit {Setting("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit")} (unset: the runtime's 70)";
        yield return $"RabbitMQ {rabbit.ServerVersion} on {rabbit.ServerPlatform}: a private node started by bench/run.sh with a fresh data directory, no plugins (and for scenario 6 a private 3-node cluster of the same version on the same machine)";
        yield return $"MassTransit {Package("MassTransit.RabbitMQ")}, RabbitMQ.Client {Package("RabbitMQ.Client")}";
        yield return "Everything runs on this one machine: the broker, the service, and the benchmark (fake API, publisher, subscriber, baselines) share its cores.";
    }

    public static string N(double value, string format = "N0") => value.ToString(format, Culture);

    public static string Mb(long bytes) => $"{bytes / 1024.0 / 1024.0:0.0} MiB";

    public static string Ms(double seconds) => (seconds * 1000).ToString(seconds < 0.01 ? "0.00" : seconds < 1 ? "0.0" : "N0", Culture);
}
