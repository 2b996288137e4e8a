using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace TaskResults.Tests.Support;

/// <summary>
/// A real HTTP server on 127.0.0.1 playing the AILabTools API: each job answers from its script,
/// one response per call, the last one repeating. Unscripted jobs answer 404 ERROR_RESOURCE_NOT_FOUND.
/// </summary>
public sealed class FakeAILabToolsApi : IAsyncDisposable
{
    public const string ApiKey = "test-key-0123456789abcdef0123456789abcdef";

    private readonly ConcurrentDictionary<string, JobScript> _scripts = new();
    private WebApplication _app = null!;

    public string BaseUrl { get; private set; } = "";

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>While set, every call gets this answer whatever its job's script says (an outage).</summary>
    public FakeResponse? Outage { get; set; }

    /// <summary>The answer for a job without a script (by default 404 ERROR_RESOURCE_NOT_FOUND): many jobs at once.</summary>
    public FakeResponse? Unscripted { get; set; }

    public static async Task<FakeAILabToolsApi> StartAsync()
    {
        var fake = new FakeAILabToolsApi();
        (fake._app, fake.BaseUrl) = await LoopbackWebApp.StartAsync(app =>
        {
            app.Map("/api/{**path}", fake.Handle);
            // BaseUrlOf(instance): the same API, telling which service instance called.
            app.Map("/{instance}/api/{**path}", fake.Handle);
        });
        return fake;
    }

    /// <summary>A base URL under which calls are recorded with <see cref="RecordedRequest.Instance"/> = <paramref name="instance"/>.</summary>
    public string BaseUrlOf(string instance) => $"{BaseUrl.TrimEnd('/')}/{instance}/";

    /// <summary>Scripts the answers to job (or task) <paramref name="jobId"/>, in order; the last repeats.</summary>
    public FakeAILabToolsApi Script(string jobId, params FakeResponse[] responses)
    {
        _scripts[jobId] = new JobScript(responses);
        return this;
    }

    public int CallsFor(string jobId) => Requests.Count(r => r.JobId == jobId);

    private async Task Handle(HttpContext http)
    {
        var jobId = http.Request.Query["job_id"].FirstOrDefault() ?? http.Request.Query["task_id"].FirstOrDefault() ?? "";
        Requests.Enqueue(new RecordedRequest(
            http.Request.Path.Value ?? "",
            jobId,
            http.Request.Query["type"].FirstOrDefault(),
            http.Request.Headers["ailabapi-api-key"].FirstOrDefault(),
            DateTimeOffset.UtcNow,
            http.Request.RouteValues["instance"] as string));

        var response = Outage ?? (_scripts.TryGetValue(jobId, out var script)
            ? script.Next()
            : Unscripted ?? FakeResponse.Error(404, "ERROR_RESOURCE_NOT_FOUND", "No such job."));
        await response.WriteAsync(http);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class JobScript(FakeResponse[] responses)
    {
        private int _next;

        public FakeResponse Next()
        {
            var index = Interlocked.Increment(ref _next) - 1;
            return responses[Math.Min(index, responses.Length - 1)];
        }
    }
}

/// <summary>One call the fake API received; <see cref="Instance"/> names the caller when it used <see cref="FakeAILabToolsApi.BaseUrlOf"/>.</summary>
public sealed record RecordedRequest(string Path, string JobId, string? Type, string? ApiKey, DateTimeOffset At, string? Instance = null);

/// <summary>One scripted answer of <see cref="FakeAILabToolsApi"/>.</summary>
public sealed record FakeResponse(int StatusCode, string Body, string ContentType = "application/json")
{
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Time to wait before answering.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>Drop the connection instead of answering.</summary>
    public bool Abort { get; init; }

    /// <summary>Send the body in 10 pieces with this pause between them (a slow body).</summary>
    public TimeSpan Trickle { get; init; }

    /// <summary>The seed endpoint's answer with <c>data.status</c> (and optional results).</summary>
    public static FakeResponse Status(string status, string? resultUrl = null, string[]? imageList = null)
    {
        var data = new Dictionary<string, object?> { ["status"] = status };
        if (resultUrl is not null) data["result_url"] = resultUrl;
        if (imageList is not null) data["image_list"] = imageList;
        return Ok(new Dictionary<string, object?> { ["data"] = data });
    }

    /// <summary>The common endpoint's answer with <c>task_status</c> (and optional data).</summary>
    public static FakeResponse TaskStatus(int taskStatus, object? data = null)
    {
        var body = new Dictionary<string, object?> { ["task_status"] = taskStatus };
        if (data is not null) body["data"] = data;
        return Ok(body);
    }

    /// <summary>HTTP 200 with every public field of a success, plus <paramref name="business"/>.</summary>
    public static FakeResponse Ok(Dictionary<string, object?> business)
    {
        var body = new Dictionary<string, object?>
        {
            ["request_id"] = "req-1",
            ["log_id"] = "log-1",
            ["error_code"] = 0,
            ["error_code_str"] = "",
            ["error_msg"] = "",
            ["error_detail"] = new Dictionary<string, object?> { ["status_code"] = 200, ["code"] = "", ["code_message"] = "", ["message"] = "" },
        };
        foreach (var (key, value) in business) body[key] = value;
        return new FakeResponse(200, System.Text.Json.JsonSerializer.Serialize(body));
    }

    /// <summary>An error answer as the current API gives it: HTTP status plus <c>error_detail.code</c>.</summary>
    public static FakeResponse Error(int httpStatus, string code, string message) => new(httpStatus, System.Text.Json.JsonSerializer.Serialize(
        new Dictionary<string, object?>
        {
            ["request_id"] = "req-err",
            ["log_id"] = "log-err",
            ["error_code"] = httpStatus,
            ["error_detail"] = new Dictionary<string, object?> { ["status_code"] = httpStatus, ["code"] = code, ["code_message"] = message, ["message"] = message },
        }));

    public static FakeResponse Raw(int httpStatus, string body, string contentType = "text/html") => new(httpStatus, body, contentType);

    public FakeResponse WithHeader(string name, string value) =>
        this with { Headers = new Dictionary<string, string>(Headers) { [name] = value } };

    internal async Task WriteAsync(HttpContext http)
    {
        if (Delay > TimeSpan.Zero)
        {
            try { await Task.Delay(Delay, http.RequestAborted); }
            catch (OperationCanceledException) { return; }
        }

        if (Abort)
        {
            http.Abort();
            return;
        }

        http.Response.StatusCode = StatusCode;
        http.Response.ContentType = ContentType;
        foreach (var (name, value) in Headers) http.Response.Headers[name] = value;
        if (Trickle <= TimeSpan.Zero)
        {
            await http.Response.WriteAsync(Body);
            return;
        }

        var piece = Math.Max(1, Body.Length / 10);
        for (var start = 0; start < Body.Length; start += piece)
        {
            await http.Response.WriteAsync(Body.Substring(start, Math.Min(piece, Body.Length - start)));
            await http.Response.Body.FlushAsync();
            try { await Task.Delay(Trickle, http.RequestAborted); }
            catch (OperationCanceledException) { return; }
        }
    }
}
