using TaskResults.IntegrationTests.Support;

namespace TaskResults.CliTests.Support;

/// <summary>
/// The service itself (no subcommand) pointed at a broker that is not there: it runs and answers its
/// health endpoints, live but never ready, so the specs about where it listens need no broker.
/// </summary>
public sealed class UnreadyService : IAsyncDisposable
{
    /// <summary>Start-up is CPU-bound on a busy two-core machine; this only bounds a hang.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly DotnetProcess _process;

    private UnreadyService(DotnetProcess process, Uri listening)
    {
        _process = process;
        Listening = listening;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{listening.Port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>The address of the service's "Now listening on:" line, as it wrote it.</summary>
    public Uri Listening { get; }

    /// <summary>Calls the service on 127.0.0.1, at the port it listens on.</summary>
    public HttpClient Http { get; }

    public string Output => _process.Output;

    /// <summary>Everything but where to listen: <paramref name="listening"/> says that, in the standard variables.</summary>
    public static Dictionary<string, string> Environment(IReadOnlyDictionary<string, string> listening)
    {
        var environment = new Dictionary<string, string>
        {
            ["AILabTools__ApiKey"] = "cli-tests-key",
            // Port 1: nothing listens there, so the connection is refused at once and the service is never ready.
            ["ConnectionStrings__RabbitMq"] = "amqp://guest:guest@127.0.0.1:1/",
            ["DOTNET_ENVIRONMENT"] = "Production",
            [ListeningLine.KeepLogged.Key] = ListeningLine.KeepLogged.Value,
        };
        foreach (var (key, value) in listening) environment[key] = value;
        return environment;
    }

    /// <summary>Starts the service and waits until it says where it listens.</summary>
    public static async Task<UnreadyService> Start(IReadOnlyDictionary<string, string> listening)
    {
        var process = DotnetProcess.Start("TaskResults.Service", [], Environment(listening));
        try
        {
            var line = await process.WaitForLine(ListeningLine.IsOne, StartTimeout);
            return new UnreadyService(process, ListeningLine.Address(line));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _process.DisposeAsync();
    }
}
