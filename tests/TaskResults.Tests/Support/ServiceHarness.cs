using System.Diagnostics;
using MassTransit;
using MassTransit.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;
using TaskResults.Service.Admin;
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
    /// <summary>The jobs endpoints' token in specs that turn them on.</summary>
    public const string AdminToken = "spec-admin-token-0123456789";

    private readonly IAsyncDisposable _services;

    private ServiceHarness(IServiceProvider provider, IAsyncDisposable services, ITestHarness harness, FakeAILabToolsApi api, Uri? address = null)
    {
        Services = provider;
        _services = services;
        Harness = harness;
        Api = api;
        Address = address;
    }

    public ITestHarness Harness { get; }

    public FakeAILabToolsApi Api { get; }

    public IServiceProvider Services { get; }

    /// <summary>Where the service's HTTP endpoints listen (<see cref="WithJobEndpointsAsync"/> only).</summary>
    public Uri? Address { get; }

    public static async Task<ServiceHarness> StartAsync(Action<Dictionary<string, string?>>? configure = null, Action<IServiceCollection>? services = null, TimeSpan? inactivity = null)
    {
        var api = await FakeAILabToolsApi.StartAsync();
        var settings = TestConfiguration.For(api);
        configure?.Invoke(settings);

        var collection = new ServiceCollection();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        collection.AddSingleton<IConfiguration>(configuration);
        collection.AddLogging();
        collection.AddTaskResultsCore();
        services?.Invoke(collection);
        collection.AddMassTransitTestHarness(x => x.AddTaskResultsConsumers(TaskResultsExtensions.ReadArchiveChoice(configuration)));

        var provider = collection.BuildServiceProvider(true);
        return new ServiceHarness(provider, provider, await StartHarness(provider, inactivity), api);
    }

    /// <summary>
    /// The service with its jobs endpoints on (Admin:Token = <see cref="AdminToken"/>) on a free port of 127.0.0.1, a
    /// registry in memory, and <paramref name="interval"/> between checks of a pending job; <paramref name="configure"/> changes any of it.
    /// </summary>
    public static async Task<ServiceHarness> WithJobEndpointsAsync(TimeSpan interval, Action<Dictionary<string, string?>>? configure = null)
    {
        var api = await FakeAILabToolsApi.StartAsync();
        var settings = TestConfiguration.For(api);
        settings["Registry:Store"] = "InMemory";
        settings["Admin:Token"] = AdminToken;
        settings["Polling:Interval"] = settings["Polling:MaxInterval"] = interval.ToString();
        configure?.Invoke(settings);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddTaskResultsCore();
        builder.Services.AddJobEndpoints();
        builder.Services.AddMassTransitTestHarness(x => x.AddTaskResultsConsumers());
        var app = builder.Build();
        app.MapJobEndpoints();
        // The harness starts every hosted service, the web server among them.
        var harness = await StartHarness(app.Services, TimeSpan.FromSeconds(2));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ServiceHarness(app.Services, app, harness, api, new Uri(address));
    }

    private static async Task<ITestHarness> StartHarness(IServiceProvider provider, TimeSpan? inactivity)
    {
        var harness = provider.GetRequiredService<ITestHarness>();
        harness.TestTimeout = TimeSpan.FromSeconds(10);
        // Idle this long and the harness stops waiting for events: longer than the longest wait a scenario schedules.
        harness.TestInactivityTimeout = inactivity ?? TimeSpan.FromSeconds(2);
        await harness.Start();
        return harness;
    }

    /// <summary>A client for the jobs endpoints, showing <paramref name="token"/> as a bearer token (none: null).</summary>
    public HttpClient JobsClient(string? token = AdminToken)
    {
        var client = new HttpClient { BaseAddress = Address ?? throw new InvalidOperationException("Started without the jobs endpoints."), Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return client;
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
        bool Matches(IPublishedMessage<T> m) => JobIdOf(m.Context.Message) == jobId && (filter?.Invoke(m.Context.Message) ?? true);
        var waiting = Stopwatch.StartNew();
        var found = await Harness.Published.SelectAsync<T>(Matches).FirstOrDefault();
        // The harness stops waiting once the bus has been idle for its inactivity timeout, and a busy
        // machine can leave it idle that long between two checks of a job: keep looking until the test timeout.
        while (found is null && waiting.Elapsed < Harness.TestTimeout)
        {
            await Task.Delay(50);
            found = Harness.Published.Select<T>(Matches).FirstOrDefault();
        }

        Assert.True(found is not null, $"No {typeof(T).Name} was published for job {jobId} within {Harness.TestTimeout}.");
        return found;
    }

    private static string? JobIdOf(object message) => message.GetType().GetProperty("JobId")?.GetValue(message) as string;

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await _services.DisposeAsync();
        await Api.DisposeAsync();
    }
}
