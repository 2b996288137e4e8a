using System.Diagnostics;
using TaskResults.IntegrationTests.Support;

namespace TaskResults.CliTests.Support;

/// <summary>
/// One of the repository's programs as a child process (<c>dotnet &lt;dll&gt; args</c>), configured only
/// through the environment the test gives it, with stdout and stderr kept line by line.
/// </summary>
public sealed class DotnetProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];

    private DotnetProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public IReadOnlyList<string> Stdout { get { lock (_stdout) return _stdout.ToArray(); } }

    public IReadOnlyList<string> Stderr { get { lock (_stderr) return _stderr.ToArray(); } }

    /// <summary>Everything written so far, for assertion messages.</summary>
    public string Output => $"stdout:\n{string.Join('\n', Stdout)}\nstderr:\n{string.Join('\n', Stderr)}";

    /// <summary>Starts <c>src/&lt;project&gt;</c>'s built dll (built by this project's references).</summary>
    public static DotnetProcess Start(string project, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var process = new DotnetProcess(new Process { StartInfo = ProgramStart.For(project, args, environment) });
        process._process.OutputDataReceived += (_, e) => Keep(process._stdout, e.Data);
        process._process.ErrorDataReceived += (_, e) => Keep(process._stderr, e.Data);
        process._process.Start();
        // These processes are CPU-bound while they start; the integration suite, which runs beside
        // this one and times the service's checks to ±20 %, keeps the CPU when both want it.
        process._process.PriorityClass = ProcessPriorityClass.BelowNormal;
        process._process.BeginOutputReadLine();
        process._process.BeginErrorReadLine();
        return process;
    }

    /// <summary>The first stdout line that matches, as soon as it is written.</summary>
    public async Task<string> WaitForLine(Func<string, bool> match, TimeSpan timeout)
    {
        var stopAt = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < stopAt)
        {
            if (Stdout.FirstOrDefault(match) is { } line) return line;
            if (_process.HasExited) break;
            await Task.Delay(20);
        }

        throw new TimeoutException($"No such line within {timeout} (exited: {_process.HasExited}).\n{Output}");
    }

    /// <summary>The exit code, once the process has ended and its output is read to the end.</summary>
    public async Task<int> WaitForExit(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Still running after {timeout}.\n{Output}");
        }

        // Returns once the redirected streams are drained, so every line is in.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Sends a POSIX signal (INT, TERM) as a terminal or a supervisor would.</summary>
    public async Task Signal(string name)
    {
        using var kill = Process.Start("kill", ["-s", name, Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static void Keep(List<string> lines, string? line)
    {
        if (line is null) return;
        lock (lines) lines.Add(line);
    }
}
