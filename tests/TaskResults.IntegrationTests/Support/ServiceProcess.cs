using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;

namespace TaskResults.IntegrationTests.Support;

/// <summary>The real service host as a child process, configured through its environment.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServiceProcess(Process process, int port)
    {
        _process = process;
        HealthUrl = $"http://127.0.0.1:{port}";
    }

    public string HealthUrl { get; }

    /// <summary>Everything the service wrote to stdout and stderr so far.</summary>
    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The name of the service's bus connection on the broker (BrokerConnections.ConnectionName).</summary>
    public string BusConnectionName => $"taskresults bus {System.Environment.MachineName} pid {_process.Id}";

    /// <summary>Whether /health/ready answers 200 now.</summary>
    public async Task<bool> IsReady()
    {
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
        var port = FreePort();
        var settings = new Dictionary<string, string> { ["Urls"] = $"http://127.0.0.1:{port}", ["DOTNET_ENVIRONMENT"] = "Production" };
        foreach (var (key, value) in environment) settings[key] = value;
        var start = ProgramStart.For("TaskResults.Service", [], settings);

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var service = new ServiceProcess(process, port);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) service._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) service._output.Enqueue(e.Data); };
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


    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
