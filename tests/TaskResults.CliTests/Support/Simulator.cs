namespace TaskResults.CliTests.Support;

/// <summary>
/// The AILabTools simulator (src/TaskResults.Simulator) as a process on a free 127.0.0.1 port, with
/// job times short enough for tests. One per test class: jobs never collide, since every test uses
/// job ids of its own.
/// </summary>
public class Simulator : IAsyncLifetime
{
    public const string ApiKey = "cli-tests-key";

    private const string ListeningLine = "AILabTools simulator listening on ";

    private DotnetProcess? _process;

    /// <summary>How long each job is QUEUING: its first query always sees it queued, later ones may too.</summary>
    public virtual TimeSpan QueuedFor => TimeSpan.FromMilliseconds(400);

    /// <summary>How long it is then PROCESSING: long enough for a poller to see it on a busy two-core machine, where a check can stall for half a second.</summary>
    public virtual TimeSpan ProcessingFor => TimeSpan.FromMilliseconds(1500);

    public virtual TimeSpan ResultLifetime => TimeSpan.FromHours(24);

    public string BaseUrl { get; private set; } = "";

    /// <summary>A job id no other test uses, with the pattern prefix that chooses its behaviour.</summary>
    public static string NewJobId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public async Task InitializeAsync()
    {
        _process = DotnetProcess.Start("TaskResults.Simulator", [], new Dictionary<string, string>
        {
            // Port 0: the system picks a free port, which the simulator then prints.
            ["Urls"] = "http://127.0.0.1:0",
            ["Simulator__ApiKey"] = ApiKey,
            ["Simulator__QueuedFor"] = QueuedFor.ToString(),
            ["Simulator__ProcessingFor"] = ProcessingFor.ToString(),
            ["Simulator__ResultLifetime"] = ResultLifetime.ToString(),
            ["Simulator__TransientErrors"] = "1",
        });
        var line = await _process.WaitForLine(l => l.StartsWith(ListeningLine), TimeSpan.FromSeconds(30));
        BaseUrl = line[ListeningLine.Length..].Split(", ")[0];
    }

    public async Task DisposeAsync()
    {
        if (_process is not null) await _process.DisposeAsync();
    }
}

/// <summary>A simulator whose jobs are quicker and whose result images expire after a second.</summary>
public sealed class QuickSimulator : Simulator
{
    public override TimeSpan QueuedFor => TimeSpan.FromMilliseconds(200);

    public override TimeSpan ProcessingFor => TimeSpan.FromSeconds(1);

    public override TimeSpan ResultLifetime => TimeSpan.FromSeconds(1);
}
