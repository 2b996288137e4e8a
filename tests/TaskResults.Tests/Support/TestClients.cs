using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using TaskResults.Service.Api;
using TaskResults.Service.Options;

namespace TaskResults.Tests.Support;

/// <summary>
/// Builds the service's real <see cref="AILabToolsClient"/>, with both endpoints and the service's
/// connection handler and limits, outside any container.
/// </summary>
public static class TestClients
{
    /// <summary>A client of the API at <paramref name="baseUrl"/>. The default timeout is generous so a loaded machine cannot turn an answer into a timeout; specs of timeouts set their own.</summary>
    /// <param name="recorder">Sees each request on its way to the service's handler.</param>
    /// <param name="clock">The service's clock (a Retry-After date counts from it); the system's when not given.</param>
    public static AILabToolsClient Create(string baseUrl, Action<AILabToolsOptions>? configure = null, DelegatingHandler? recorder = null, TimeProvider? clock = null)
    {
        var options = new AILabToolsOptions { BaseUrl = baseUrl, ApiKey = FakeAILabToolsApi.ApiKey, Timeout = TimeSpan.FromSeconds(10) };
        configure?.Invoke(options);
        HttpMessageHandler handler = AILabToolsClient.CreateHandler(options);
        if (recorder is not null)
        {
            recorder.InnerHandler = handler;
            handler = recorder;
        }

        var httpClient = new HttpClient(handler);
        AILabToolsClient.Configure(httpClient, options);
        return new AILabToolsClient(httpClient, Options.Create(options), [new ImageTaskResultEndpoint(), new CommonTaskResultEndpoint()],
            clock ?? TimeProvider.System);
    }

    /// <summary>A client whose API is a 127.0.0.1 port nothing listens on (bound a moment ago, then released): connections are refused.</summary>
    public static AILabToolsClient CreateForClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return Create($"http://127.0.0.1:{port}");
    }
}
