using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace TaskResults.IntegrationTests.Support;

/// <summary>
/// A real OTLP/HTTP endpoint on 127.0.0.1 that keeps every export it receives, raw. Always on a port the
/// system picks (<see cref="Endpoint"/> names it), never on OTLP's well-known 4318, which a collector may hold.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private WebApplication _app = null!;

    public string Endpoint { get; private set; } = "";

    public ConcurrentQueue<(string Path, string? ContentType, byte[] Body)> Exports { get; } = new();

    public static async Task<OtlpReceiver> StartAsync()
    {
        var receiver = new OtlpReceiver();
        (receiver._app, receiver.Endpoint) = await LoopbackWebApp.StartAsync(app => app.MapPost("/v1/{signal}", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            receiver.Exports.Enqueue((http.Request.Path.Value ?? "", http.Request.ContentType, body.ToArray()));
            // An empty protobuf message is a valid Export*ServiceResponse.
            http.Response.ContentType = "application/x-protobuf";
            return Results.Empty;
        }));
        return receiver;
    }

    /// <summary>Waits until an export to <paramref name="path"/> holds <paramref name="text"/> (UTF-8 strings are raw bytes in protobuf).</summary>
    public async Task<bool> WaitForExportContaining(string path, string text, TimeSpan timeout)
    {
        var stopAt = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < stopAt)
        {
            if (Exports.Any(e => e.Path == path && Contains(e.Body, text))) return true;
            await Task.Delay(100);
        }

        return false;
    }

    public static bool Contains(byte[] body, string text) => body.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(text)) >= 0;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
