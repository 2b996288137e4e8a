using System.Collections.Concurrent;
using System.Diagnostics;

namespace TaskResults.IntegrationTests.Support;

/// <summary>The real service host as a child process, configured through its environment.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServiceProcess(Process process) => _process = process;

    /// <summary>Where the service listens (it binds port 0 and says which port it got); known once it listens.</summary>
    public string HealthUrl => _listening.Task.IsCompletedSuccessfully
        ? _listening.Task.Result
        : throw new InvalidOperationException($"The service has not said where it listens yet:\n{Output}");

    /// <summary>Everything the service wrote to stdout and stderr so far.</summary>
    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The name of the service's bus connection on the broker (BrokerConnections.ConnectionName).</summary>
    public string BusConnectionName => $"taskresults bus {System.Environment.MachineName} pid {_process.Id}";

    /// <summary>Whether /health/ready answers 200 now (not before the service listens).</summary>
    public async Task<bool> IsReady()
    {
        if (!_listening.Task.IsCompletedSuccessfully) return false;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await http.GetAsync($"{HealthUrl}/health/ready");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException) { return false; }
        catch (TaskCanceledException) { return false; }
    }

    public static async Task<ServiceProcess> StartAsync(IReadOnlyDictionary<string, string> environment, bool waitUntilReady = true)
    {
        var settings = new Dictionary<string, string>
        {
            // Port 0: the system picks a port nobody holds, and the service names it in its listening line.
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["DOTNET_ENVIRONMENT"] = "Production",
            [ListeningLine.KeepLogged.Key] = ListeningLine.KeepLogged.Value,
        };
        foreach (var (key, value) in environment) settings[key] = value;
        var start = ProgramStart.For("TaskResults.Service", [], settings);

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var service = new ServiceProcess(process);
        process.OutputDataReceived += (_, e) => service.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => service.Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (waitUntilReady) await service.WaitUntilReady(TimeSpan.FromSeconds(60));
        return service;
    }

    /// <summary>Polls /health/ready (which includes the bus) until it answers 200.</summary>
    public async Task WaitUntilReady(TimeSpan timeout)
    {
        var stopAt = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < stopAt)
        {
            if (_process.HasExited) throw new InvalidOperationException($"The service exited with {_process.ExitCode}:\n{Output}");
            if (await IsReady()) return;
            await Task.Delay(100);
        }

        throw new TimeoutException($"The service was not ready within {timeout}:\n{Output}");
    }

    /// <summary>Kills the process at once, as a crash or an OOM kill would: no graceful stop.</summary>
    public async Task Kill()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>
    /// Sends SIGTERM, as <c>docker stop</c> or Kubernetes do, and waits for the process to exit:
    /// returns how long it took, or throws when it is still running after <paramref name="timeout"/>.
    /// </summary>
    public async Task<TimeSpan> Terminate(TimeSpan timeout)
    {
        var took = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
            if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -TERM {_process.Id} exited with {kill.ExitCode}");
        }

        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The service was still running {timeout} after SIGTERM:\n{Output}");
        }

        return took.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) await Kill();
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        if (ListeningLine.IsOne(line)) _listening.TrySetResult(ListeningLine.Address(line).GetLeftPart(UriPartial.Authority));
    }
}
