using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace TaskResults.Tests.Support;

/// <summary>
/// Where result files come from, on 127.0.0.1: <c>/files/{name}</c> answers by name. <c>missing*</c> 404,
/// <c>gone*</c> 410, <c>flaky*</c> 503 at the first request then the file, <c>twice*</c> 503 at the first two, <c>down*</c> always 503,
/// <c>redirect-out*</c> a 302 to the cloud's metadata address, <c>redirect-in*</c> a 302 to <c>/files/ok.png</c>,
/// <c>big*</c> 5,000 bytes, <c>chunked*</c> 5,000 bytes without a length, <c>slow*</c> 20 KiB over 4 s (<c>slow-first*</c> 20 s the first time, at once after); anything else <see cref="Content"/>(name)
/// as image/png. Every request is recorded with its headers.
/// </summary>
public sealed class FakeFileHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _seen = new();

    private FakeFileHost(WebApplication app, string address) => (_app, Address) = (app, address.TrimEnd('/'));

    public string Address { get; }

    public ConcurrentQueue<(string Path, IReadOnlyDictionary<string, string> Headers)> Requests { get; } = new();

    public string Url(string name) => $"{Address}/files/{name}";

    /// <summary>A file's bytes: its name, repeated to a kilobyte.</summary>
    public static byte[] Content(string name) => System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(name, 1024 / name.Length + 1))[..1024]);

    public static async Task<FakeFileHost> StartAsync()
    {
        FakeFileHost? host = null;
        var (app, address) = await LoopbackWebApp.StartAsync(app => app.MapGet("/files/{name}", (HttpContext http, string name) => host!.Answer(http, name)));
        return host = new FakeFileHost(app, address);
    }

    private async Task Answer(HttpContext http, string name)
    {
        Requests.Enqueue((http.Request.Path.Value!, http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString())));
        var times = _seen.AddOrUpdate(name, 1, (_, n) => n + 1);
        switch (name)
        {
            case var _ when name.StartsWith("missing", StringComparison.Ordinal):
                http.Response.StatusCode = 404;
                return;
            case var _ when name.StartsWith("gone", StringComparison.Ordinal):
                http.Response.StatusCode = 410;
                return;
            case var _ when name.StartsWith("down", StringComparison.Ordinal) || (name.StartsWith("flaky", StringComparison.Ordinal) && times == 1)
                                 || (name.StartsWith("twice", StringComparison.Ordinal) && times <= 2):
                http.Response.StatusCode = 503;
                return;
            case var _ when name.StartsWith("redirect-out", StringComparison.Ordinal):
                http.Response.Redirect("http://169.254.169.254/latest/meta-data/");
                return;
            case var _ when name.StartsWith("redirect-in", StringComparison.Ordinal):
                http.Response.Redirect("/files/ok.png");
                return;
            case var _ when name.StartsWith("slow", StringComparison.Ordinal):
                // 20 KiB over about 4 s: time to kill a download half-way (slow-first*: 20 s at the first request, at once after).
                var pause = !name.StartsWith("slow-first", StringComparison.Ordinal) ? 200 : times == 1 ? 1000 : 0;
                http.Response.ContentType = "image/png";
                http.Response.ContentLength = 20 * 1024;
                for (var i = 0; i < 20; i++)
                {
                    await http.Response.Body.WriteAsync(Content(name), http.RequestAborted);
                    await http.Response.Body.FlushAsync(http.RequestAborted);
                    await Task.Delay(pause, http.RequestAborted);
                }

                return;
            case var _ when name.StartsWith("big", StringComparison.Ordinal) || name.StartsWith("chunked", StringComparison.Ordinal):
                http.Response.ContentType = "image/png";
                if (name.StartsWith("big", StringComparison.Ordinal)) http.Response.ContentLength = 5000;
                for (var i = 0; i < 5; i++)
                {
                    await http.Response.Body.WriteAsync(new byte[1000]);
                    await http.Response.Body.FlushAsync();
                }

                return;
            default:
                http.Response.ContentType = "image/png";
                await http.Response.Body.WriteAsync(Content(name));
                return;
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
