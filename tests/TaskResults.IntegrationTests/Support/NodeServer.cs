using System.Diagnostics;
using System.Text.RegularExpressions;

namespace TaskResults.IntegrationTests.Support;

/// <summary>
/// A store server from npm (installed by scripts/install-deps.sh into .tools/npm) on 127.0.0.1, with a data
/// directory of its own and a port the system picks (0): its listening line says which.
/// </summary>
public abstract partial class NodeServer : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "taskresults-store-" + Guid.NewGuid().ToString("N"));
    private readonly List<string> _output = [];
    private Process? _process;

    public int Port { get; private set; }

    protected abstract string Tool { get; }

    protected abstract IEnumerable<string> Arguments(string data);

    public async Task InitializeAsync()
    {
        var tool = Path.Combine(RepositoryRoot.Path, ".tools", "npm", "node_modules", ".bin", Tool);
        Assert.True(File.Exists(tool), $"{tool} is missing: scripts/install-deps.sh installs it.");
        Directory.CreateDirectory(_data);
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in Arguments(_data)) start.ArgumentList.Add(argument);
        _process = Process.Start(start)!;
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Read(string? line)
        {
            if (line is null) return;
            lock (_output) _output.Add(line);
            if (ListeningPort().Match(line) is { Success: true } found) listening.TrySetResult(int.Parse(found.Groups[1].Value));
        }

        _process.OutputDataReceived += (_, e) => Read(e.Data);
        _process.ErrorDataReceived += (_, e) => Read(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var started = await Task.WhenAny(listening.Task, _process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(started == listening.Task, $"{Tool} did not say where it listens:\n{string.Join('\n', _output)}");
        Port = await listening.Task;
    }

    [GeneratedRegex(@"(?:listening on|listens on) (?:http://)?127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningPort();

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }
}

/// <summary>s3rver: any credentials, path-style, the bucket <see cref="Bucket"/>.</summary>
public sealed class S3Server : NodeServer
{
    public const string Bucket = "results";

    protected override string Tool => "s3rver";

    protected override IEnumerable<string> Arguments(string data) => ["-d", data, "-a", "127.0.0.1", "-p", "0", "--configure-bucket", Bucket];

    public string ServiceUrl => $"http://127.0.0.1:{Port}";
}

/// <summary>Azurite's blob service, with its well-known development account.</summary>
public sealed class AzuriteServer : NodeServer
{
    protected override string Tool => "azurite-blob";

    protected override IEnumerable<string> Arguments(string data) => ["--blobHost", "127.0.0.1", "--blobPort", "0", "-l", data, "--skipApiVersionCheck", "--loose"];

    // Azurite's published development key: not a secret.
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:{Port}/devstoreaccount1;";
}
