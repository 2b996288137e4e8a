using System.Collections.Concurrent;

namespace TaskResults.Tests.Support;

/// <summary>Keeps every request exactly as the client hands it to the network (the raw query string, every header).</summary>
public sealed class RecordingHandler : DelegatingHandler
{
    public ConcurrentQueue<HttpRequestMessage> Requests { get; } = new();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        return base.SendAsync(request, cancellationToken);
    }
}
