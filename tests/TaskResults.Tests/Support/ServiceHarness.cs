using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TaskResults.Service.Extensions;

namespace TaskResults.Tests.Support;

/// <summary>
/// One fresh in-memory MassTransit test harness per scenario, with the service's real registrations
/// and its real HTTP client pointed at a <see cref="FakeAILabToolsApi"/>.
/// </summary>
public sealed class ServiceHarness : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    private ServiceHarness(ServiceProvider provider, ITestHarness harness, FakeAILabToolsApi api)
    {
        _provider = provider;
        Harness = harness;
        Api = api;
    }

    public ITestHarness Harness { get; }

    public FakeAILabToolsApi Api { get; }

    public IServiceProvider Services => _provider;

    public static async Task<ServiceHarness> StartAsync(Action<Dictionary<string, string?>>? configure = null, Action<IServiceCollection>? services = null, TimeSpan? inactivity = null)
    {
        var api = await FakeAILabToolsApi.StartAsync();
        var settings = TestConfiguration.For(api);
        configure?.Invoke(settings);

        var collection = new ServiceCollection();
        collection.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        collection.AddLogging();
        collection.AddTaskResultsCore();
        services?.Invoke(collection);
        collection.AddMassTransitTestHarness(x => x.AddTaskResultsConsumers());

        var provider = collection.BuildServiceProvider(true);
        var harness = provider.GetRequiredService<ITestHarness>();
        harness.TestTimeout = TimeSpan.FromSeconds(10);
        // Idle this long and the harness stops waiting for events: longer than the longest wait a scenario schedules.
        harness.TestInactivityTimeout = inactivity ?? TimeSpan.FromSeconds(2);
        await harness.Start();
        return new ServiceHarness(provider, harness, api);
    }

    /// <summary>
    /// The service with a job registry in memory (Registry:Store=InMemory); with <paramref name="interval"/>, that long
    /// between checks of a pending job (a job that waits while the spec asks about it or cancels it).
    /// </summary>
    public static Task<ServiceHarness> WithRegistryAsync(TimeSpan? interval = null, TimeSpan? inactivity = null) => StartAsync(settings =>
    {
        settings["Registry:Store"] = "InMemory";
        if (interval is not { } wait) return;
        settings["Polling:Interval"] = settings["Polling:MaxInterval"] = wait.ToString();
    }, inactivity: inactivity);

    /// <summary>Sends the command to the service's queue, as another service would.</summary>
    public async Task Send<T>(T command, Action<SendContext<T>>? configure = null) where T : class
    {
        var endpoint = await Harness.Bus.GetSendEndpoint(new Uri("queue:check-task-result"));
        await endpoint.Send(command, context => configure?.Invoke(context));
    }

    /// <summary>Asks the service's control queue, as another service would with <c>IRequestClient</c>.</summary>
    public async Task<TResponse> Ask<TRequest, TResponse>(TRequest request) where TRequest : class where TResponse : class
    {
        var client = Harness.Bus.CreateRequestClient<TRequest>(new Uri("queue:" + TaskResultsEndpoints.ControlQueue), RequestTimeout.After(s: 10));
        return (await client.GetResponse<TResponse>(request)).Message;
    }

    /// <summary>The events of type <typeparamref name="T"/> published for one job, in order.</summary>
    public IReadOnlyList<T> Events<T>(string jobId) where T : class =>
        Harness.Published.Select<T>().Select(m => m.Context.Message).Where(m => JobIdOf(m) == jobId).ToList();

    /// <summary>Waits (up to the harness timeout) for an event of type <typeparamref name="T"/> for one job.</summary>
    public async Task<IPublishedMessage<T>> WaitFor<T>(string jobId, Func<T, bool>? filter = null) where T : class
    {
        var found = await Harness.Published.SelectAsync<T>(m => JobIdOf(m.Context.Message) == jobId && (filter?.Invoke(m.Context.Message) ?? true)).FirstOrDefault();
        Assert.True(found is not null, $"No {typeof(T).Name} was published for job {jobId} within {Harness.TestTimeout}.");
        return found;
    }

    private static string? JobIdOf(object message) => message.GetType().GetProperty("JobId")?.GetValue(message) as string;

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await _provider.DisposeAsync();
        await Api.DisposeAsync();
    }
}
