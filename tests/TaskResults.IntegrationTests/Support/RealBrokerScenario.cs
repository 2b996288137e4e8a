namespace TaskResults.IntegrationTests.Support;

/// <summary>
/// What every real-broker scenario needs: empty service queues, the fake API on 127.0.0.1, a
/// subscriber, and a way to start the real service against them.
/// </summary>
[Collection(BrokerCollection.Name)]
public abstract class RealBrokerScenario(Broker broker) : IAsyncLifetime
{
    /// <summary>The polling interval the scenarios run with (one wait queue of this delay).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>Long enough for a broker restart; events normally come in about a second.</summary>
    public static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(60);

    private readonly List<ServiceProcess> _services = [];

    protected Broker Broker { get; } = broker;

    protected FakeAILabToolsApi Api { get; private set; } = null!;

    protected EventListener Listener { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Broker.PurgeServiceQueues();
        Api = await FakeAILabToolsApi.StartAsync();
        Listener = await EventListener.StartAsync(Broker);
    }

    public async Task DisposeAsync()
    {
        foreach (var service in _services) await service.DisposeAsync();
        await Listener.DisposeAsync();
        await Api.DisposeAsync();
    }

    /// <summary>Starts the real service host, configured through its environment, and (unless told not to) waits until it is ready.</summary>
    protected async Task<ServiceProcess> StartService(IReadOnlyDictionary<string, string>? extraEnvironment = null, bool waitUntilReady = true)
    {
        var environment = new Dictionary<string, string>
        {
            ["AILabTools__BaseUrl"] = Api.BaseUrl,
            ["AILabTools__ApiKey"] = FakeAILabToolsApi.ApiKey,
            ["ConnectionStrings__RabbitMq"] = Broker.Uri.ToString(),
            ["Polling__Interval"] = Interval.ToString(),
            ["Polling__TransientRetryInterval"] = Interval.ToString(),
            ["Polling__MaxInterval"] = "00:00:04",
        };
        foreach (var (key, value) in extraEnvironment ?? new Dictionary<string, string>()) environment[key] = value;
        var service = await ServiceProcess.StartAsync(environment, waitUntilReady);
        _services.Add(service);
        return service;
    }
}
