using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TaskResults.Service.Api;
using TaskResults.Service.Extensions;

namespace TaskResults.Tests.Support;

/// <summary>
/// The service's registrations without a bus, pointed at a fake API: the API client exactly as the
/// service builds it (HttpClient from the factory, its handler, buffer cap and redirect policy).
/// </summary>
public sealed class ClientServices(ServiceProvider provider) : IAsyncDisposable
{
    public AILabToolsClient Client => provider.GetRequiredService<AILabToolsClient>();

    public static ClientServices Build(FakeAILabToolsApi api, Action<Dictionary<string, string?>>? configure = null)
    {
        var settings = TestConfiguration.For(api);
        configure?.Invoke(settings);
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .AddLogging()
            .AddTaskResultsCore();
        return new ClientServices(services.BuildServiceProvider());
    }

    public ValueTask DisposeAsync() => provider.DisposeAsync();
}
