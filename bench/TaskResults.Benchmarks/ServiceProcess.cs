using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using TaskResults.IntegrationTests.Support;

namespace TaskResults.Benchmarks;

/// <summary>
/// The real service (the Release build of TaskResults.Service) as a process of its own,
/// configured through its environment, so its memory and CPU can be read from /proc.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    /// <summary>Services running now, ended if the benchmark is interrupted (see <see cref="KillAllOnSignals"/>).</summary>
    private static readonly ConcurrentDictionary<int, Process> Running = new();

    public const string PassPrefix = "BENCH_SERVICE_";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<string> _healthUrl = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _linesBeforeReady;

    private ServiceProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    /// <summary>What the service wrote once it was ready (it logs at Warning and above only).</summary>
    public IReadOnlyCollection<string> Output => _output.Skip(_linesBeforeReady).ToList();

    public static async Task<ServiceProcess> StartAsync(string dll, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        // Port 0: the system picks a port nobody holds, and the service names it in its listening line.
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment[ListeningLine.KeepLogged.Key] = ListeningLine.KeepLogged.Value;
        foreach (var (key, value) in environment) start.Environment[key] = value;
        // BENCH_SERVICE_X=v reaches the service as X=v: for profiling (DOTNET_PerfMapEnabled=1) and trials (OTEL_SDK_DISABLED=true).
        foreach (var key in Environment.GetEnvironmentVariables().Keys.OfType<string>().Where(k => k.StartsWith(PassPrefix, StringComparison.Ordinal)))
        {
            start.Environment[key[PassPrefix.Length..]] = Environment.GetEnvironmentVariable(key);
        }


        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var service = new ServiceProcess(process);
        process.OutputDataReceived += (_, e) => service.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => service.Keep(e.Data);
        process.Start();
        Running[process.Id] = process;
        process.Exited += (_, _) => Running.TryRemove(process.Id, out _);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await service.WaitUntilReady(TimeSpan.FromSeconds(60));
        return service;
    }

    /// <summary>On SIGINT, SIGTERM or SIGQUIT, kills the services this benchmark started before it goes.</summary>
    public static IDisposable[] KillAllOnSignals() =>
        [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT }.Select(signal => PosixSignalRegistration.Create(signal, _ =>
        {
            foreach (var process in Running.Values)
            {
                try { process.Kill(entireProcessTree: true); }
                catch (InvalidOperationException) { }
            }
        }))];

    /// <summary>VmRSS and VmHWM (peak) from /proc/&lt;pid&gt;/status, in bytes.</summary>
    public (long Rss, long Peak) Memory() => ProcStats.Memory(Pid);

    /// <summary>Where the service listens (http://127.0.0.1:port), once it has said so.</summary>
    public async Task<Uri> AddressAsync() => new(new Uri(await _healthUrl.Task).GetLeftPart(UriPartial.Authority));

    /// <summary>CPU time used so far (user + system).</summary>
    public TimeSpan Cpu() => ProcStats.Cpu(Pid);

    private async Task WaitUntilReady(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var stopAt = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < stopAt)
        {
            if (_process.HasExited) throw new InvalidOperationException($"The service exited with {_process.ExitCode}:\n{string.Join('\n', _output)}");
            try
            {
                if (!_healthUrl.Task.IsCompleted)
                {
                    await Task.Delay(100);
                    continue;
                }

                using var response = await http.GetAsync(await _healthUrl.Task);
                if (response.IsSuccessStatusCode)
                {
                    // Before, the bus's health check logs "Unhealthy ... not started" for each probe: not news.
                    _linesBeforeReady = _output.Count;
                    return;
                }
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The service was not ready within {timeout}:\n{string.Join('\n', _output)}");
    }

    /// <summary>SIGTERM, as an orchestrator stops it; SIGKILL if it has not exited after a while.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try { await _process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>SIGKILL: for a service stuck on calls that will not return.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        if (ListeningLine.IsOne(line)) _healthUrl.TrySetResult($"{ListeningLine.Address(line).GetLeftPart(UriPartial.Authority)}/health/ready");
    }
}

/// <summary>Cheap readings from /proc: memory and CPU time of a process, busy time of the machine.</summary>
public static class ProcStats
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public static (long Rss, long Peak) Memory(int pid)
    {
        long rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kilobytes(line) * 1024;
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kilobytes(line) * 1024;
        }

        return (rss, peak);
    }

    /// <summary>utime + stime of a process; zero when it is gone.</summary>
    public static TimeSpan Cpu(int pid)
    {
        try
        {
            return CpuOf(File.ReadAllText($"/proc/{pid}/stat"));
        }
        catch (IOException) { return TimeSpan.Zero; }
    }

    /// <summary>utime + stime of each of a process's threads named <paramref name="name"/> (as Linux keeps it: 15 characters at most), by thread id.</summary>
    public static Dictionary<int, TimeSpan> ThreadCpu(int pid, string name)
    {
        var threads = new Dictionary<int, TimeSpan>();
        try
        {
            foreach (var thread in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(thread, "comm")).TrimEnd('\n') == name)
                        threads[int.Parse(Path.GetFileName(thread))] = CpuOf(File.ReadAllText(Path.Combine(thread, "stat")));
                }
                catch (IOException) { } // the thread ended meanwhile
            }
        }
        catch (IOException) { } // the process ended
        return threads;
    }

    /// <summary>
    /// What the threads of <paramref name="after"/> used since <paramref name="before"/> (a thread new since then from zero). A
    /// thread that ended in between takes what it used with it: the runtime ends an idle tiered-compilation thread
    /// after 4 s and starts another for new work, so over a short batch this counts low by at most one thread's last work.
    /// </summary>
    public static TimeSpan UsedSince(Dictionary<int, TimeSpan> before, Dictionary<int, TimeSpan> after) =>
        after.Aggregate(TimeSpan.Zero, (sum, thread) => sum + (thread.Value - before.GetValueOrDefault(thread.Key)));

    // Fields after the command name (which may contain spaces) start after the last ')'.
    private static TimeSpan CpuOf(string stat)
    {
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return TimeSpan.FromSeconds((long.Parse(fields[11]) + long.Parse(fields[12])) / TicksPerSecond);
    }

    /// <summary>(busy, total) CPU time of the whole machine since boot, all cores.</summary>
    public static (TimeSpan Busy, TimeSpan Total) Machine()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        var total = fields.Take(8).Sum();
        var idle = fields[3] + fields[4];
        return (TimeSpan.FromSeconds((total - idle) / TicksPerSecond), TimeSpan.FromSeconds(total / TicksPerSecond));
    }

    private static long Kilobytes(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
}
