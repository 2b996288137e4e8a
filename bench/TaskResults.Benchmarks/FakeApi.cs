using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TaskResults.Tests.Support;

namespace TaskResults.Benchmarks;

/// <summary>
/// The AILabTools API as the benchmark needs it: Kestrel on 127.0.0.1, a fixed latency, and for
/// each job of the current run a counter that answers QUEUING for the first
/// <see cref="ApiRun.PendingChecks"/> calls and PROCESS_SUCCESS after. Job ids are
/// <c>{run tag}-{index}</c>; answers are prebuilt bytes and every request time goes into
/// preallocated arrays, so the fake costs as little CPU as it can on a machine it shares.
/// </summary>
public sealed class FakeApi : IAsyncDisposable
{
    public const string ApiKey = "bench-key-0123456789abcdef0123456789abcdef";
    public const string Path = "/api/image/asyn-task-results";

    private static readonly byte[] Success = Answer("PROCESS_SUCCESS", ",\"result_url\":\"https://example.invalid/result.png\"");
    private static readonly byte[] Queuing = Answer("QUEUING", "");

    public static int AnswerBytes => Success.Length;

    /// <summary>Latencies from this one on are a stalled API (the call is dropped when the caller goes away).</summary>
    public static readonly TimeSpan StallAt = TimeSpan.FromSeconds(1);

    private readonly WebApplication _app;
    private volatile ApiRun? _run;
    private long _strays;

    private FakeApi(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Requests for jobs of no current run (leftovers of an earlier one): answered PROCESS_SUCCESS.</summary>
    public long Strays => Interlocked.Read(ref _strays);

    public static async Task<FakeApi> StartAsync()
    {
        FakeApi? fake = null;
        var (_, address) = await LoopbackWebApp.StartAsync(app =>
        {
            fake = new FakeApi(app);
            app.Run(fake.Handle);
        });
        fake!.BaseUrl = address;
        return fake;
    }

    /// <summary>From now on, answers for the jobs of <paramref name="run"/>.</summary>
    public void Begin(ApiRun run) => _run = run;

    private async Task Handle(HttpContext http)
    {
        var run = _run;
        var latency = run?.Latency ?? TimeSpan.Zero;
        var answer = Success;
        if (run is not null && run.TryRecord(http.Request.QueryString.Value, out var pending))
        {
            if (pending) answer = Queuing;
        }
        else
        {
            Interlocked.Increment(ref _strays);
        }

        if (latency >= StallAt)
        {
            // A stalled API: hold the call until the client gives up.
            try { await Task.Delay(latency, http.RequestAborted); }
            catch (OperationCanceledException) { return; }
        }
        else if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency);
        }

        var response = http.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.ContentLength = answer.Length;
        await response.Body.WriteAsync(answer);
    }

    // The public fields of a successful call as the API sends them, then data.status.
    private static byte[] Answer(string status, string more) => Encoding.UTF8.GetBytes(
        "{\"request_id\":\"bench-request\",\"log_id\":\"bench-log\",\"error_code\":0,\"error_code_str\":\"\",\"error_msg\":\"\"," +
        "\"error_detail\":{\"status_code\":200,\"code\":\"\",\"code_message\":\"\",\"message\":\"\"}," +
        $"\"data\":{{\"status\":\"{status}\"{more}}}}}");

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>What the fake API answers for the jobs of one run, and when each was asked about.</summary>
public sealed class ApiRun
{
    private readonly string _prefix;
    private readonly int[] _calls;
    private readonly long[] _callTimes;
    private readonly long[] _allTimes;
    private int _allCount;

    public ApiRun(string tag, int jobs, int pendingChecks, TimeSpan latency, int? recordAllUpTo = null)
    {
        Tag = tag;
        _prefix = $"job_id={tag}-";
        Jobs = jobs;
        PendingChecks = pendingChecks;
        Latency = latency;
        _calls = new int[jobs];
        _callTimes = new long[jobs * ChecksPerJob];
        _allTimes = new long[recordAllUpTo ?? jobs * ChecksPerJob];
    }

    public string Tag { get; }

    public int Jobs { get; }

    /// <summary>How many calls per job answer QUEUING before PROCESS_SUCCESS.</summary>
    public int PendingChecks { get; }

    public TimeSpan Latency { get; }

    public int ChecksPerJob => PendingChecks + 1;

    /// <summary>Calls about jobs of this run, repeats after success included.</summary>
    public int Calls => Volatile.Read(ref _allCount);

    /// <summary>Counts the call; false when it is not about a job of this run.</summary>
    public bool TryRecord(string? query, out bool pending)
    {
        pending = false;
        if (!TryJobIndex(query, out var index)) return false;
        var now = Stopwatch.GetTimestamp();
        var call = Interlocked.Increment(ref _calls[index]);
        if (call <= ChecksPerJob) _callTimes[index * ChecksPerJob + call - 1] = now;
        var slot = Interlocked.Increment(ref _allCount) - 1;
        if (slot < _allTimes.Length) _allTimes[slot] = now;
        pending = call <= PendingChecks;
        return true;
    }

    /// <summary>When job <paramref name="index"/> was asked about for the <paramref name="check"/>-th time (0-based); 0 if not (yet).</summary>
    public long CallTime(int index, int check) => _callTimes[index * ChecksPerJob + check];

    public int CallsFor(int index) => Volatile.Read(ref _calls[index]);

    /// <summary>The time of every call, in arrival order (up to the capacity given at construction).</summary>
    public ReadOnlySpan<long> AllCallTimes => _allTimes.AsSpan(0, Math.Min(Calls, _allTimes.Length));

    // "?job_id={tag}-{index}&type=…" without allocating.
    private bool TryJobIndex(string? query, out int index)
    {
        index = -1;
        if (query is null) return false;
        var at = query.IndexOf(_prefix, StringComparison.Ordinal);
        if (at < 0) return false;
        var digits = query.AsSpan(at + _prefix.Length);
        var end = digits.IndexOf('&');
        if (end >= 0) digits = digits[..end];
        return int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index)
            && index < _calls.Length;
    }
}
