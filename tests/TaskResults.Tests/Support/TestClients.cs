using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using TaskResults.Service.Api;
using TaskResults.Service.Options;

namespace TaskResults.Tests.Support;

/// <summary>Builds the service's real <see cref="AILabToolsClient"/>, with both endpoints, outside any container.</summary>
public static class TestClients
{
    /// <summary>A client of the API at <paramref name="baseUrl"/>. The default timeout is generous so a loaded machine cannot turn an answer into a timeout; specs of timeouts set their own.</summary>
    public static AILabToolsClient Create(string baseUrl, Action<AILabToolsOptions>? configure = null, HttpMessageHandler? handler = null)
    {
        var options = new AILabToolsOptions { BaseUrl = baseUrl, ApiKey = FakeAILabToolsApi.ApiKey, Timeout = TimeSpan.FromSeconds(10) };
        configure?.Invoke(options);
        var httpClient = handler is null ? new HttpClient() : new HttpClient(handler);
        return new AILabToolsClient(httpClient, Options.Create(options), [new ImageTaskResultEndpoint(), new CommonTaskResultEndpoint()]);
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
