using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TaskResults.Tests.Support;

/// <summary>
/// A private redis-server on 127.0.0.1: no persistence, a port of its own (when the port it tried was
/// taken meanwhile, it tries another). <see cref="PauseAsync"/> makes it unreachable without giving
/// up its port (SIGSTOP): calls time out as with a Redis that is down. The tests' fixture
/// (RedisServer) and the benchmark's scenario 7 use it.
/// </summary>
public sealed class RedisProcess : IAsyncDisposable
{
    private const string Binary = "/usr/bin/redis-server";
    private Process? _process;

    public int Port { get; private set; }

    /// <summary>The StackExchange.Redis configuration string for this server (short timeouts: a paused server is noticed in a second).</summary>
    public string ConnectionString => $"127.0.0.1:{Port},connectTimeout=1000,asyncTimeout=1000,syncTimeout=1000";

    public async Task StartAsync()
    {
        if (!File.Exists(Binary)) throw new InvalidOperationException($"{Binary} is missing: scripts/install-deps.sh installs Debian's redis-server.");
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            _process = Process.Start(new ProcessStartInfo(Binary)
            {
                ArgumentList = { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "notice" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            if (await ReadyAsync(_process)) return;
            await StopProcessAsync();
            if (attempt == 5) throw new InvalidOperationException("redis-server did not start on five ports in a row.");
        }
    }

    /// <summary>Stops answering (the process is suspended): connections stay open, calls time out.</summary>
    public Task PauseAsync() => Signal("STOP");

    /// <summary>Answers again; with <paramref name="forgetEverything"/> like a restart without persistence (every key gone).</summary>
    public async Task ResumeAsync(bool forgetEverything = false)
    {
        await Signal("CONT");
        if (forgetEverything) await CliAsync("FLUSHALL");
    }

    /// <summary>Runs redis-cli against this server and returns its output.</summary>
    public async Task<string> CliAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["-h", "127.0.0.1", "-p", Port.ToString(), .. arguments]) start.ArgumentList.Add(argument);
        using var cli = Process.Start(start)!;
        var output = await cli.StandardOutput.ReadToEndAsync();
        await cli.WaitForExitAsync();
        return output.Trim();
    }

    /// <summary>The process id, for its CPU time.</summary>
    public int Pid => _process?.Id ?? throw new InvalidOperationException("redis-server is not running.");

    public async ValueTask DisposeAsync() => await StopProcessAsync();

    private async Task StopProcessAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            await Signal("CONT");
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _process = null;
    }

    private async Task Signal(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process!.Id.ToString()]);
        await kill.WaitForExitAsync();
    }

    // Ready when it says so; false when it exits first (its port was taken between FreePort and its bind).
    private static async Task<bool> ReadyAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                // Keep draining its output, so a full pipe never blocks it.
                _ = process.StandardOutput.ReadToEndAsync();
                _ = process.StandardError.ReadToEndAsync();
                return true;
            }
        }

        return false;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
