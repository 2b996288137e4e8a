using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TaskResults.IntegrationTests.Support;

/// <summary>A real OTLP/HTTP endpoint on 127.0.0.1 that keeps every export it receives, raw.</summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app) => _app = app;

    public string Endpoint { get; private set; } = "";

    public ConcurrentQueue<(string Path, string? ContentType, byte[] Body)> Exports { get; } = new();

    public static async Task<OtlpReceiver> StartAsync(string url = "http://127.0.0.1:0")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/{signal}", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            receiver.Exports.Enqueue((http.Request.Path.Value ?? "", http.Request.ContentType, body.ToArray()));
            // An empty protobuf message is a valid Export*ServiceResponse.
            http.Response.ContentType = "application/x-protobuf";
            return Results.Empty;
        });
        await app.StartAsync();
        receiver.Endpoint = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
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
