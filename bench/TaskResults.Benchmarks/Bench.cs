using System.Text;
using Microsoft.AspNetCore.Builder;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.Loader;
using static TaskResults.Benchmarks.Report;

namespace TaskResults.Benchmarks;

/// <summary>The scenarios of the README's "Benchmark" section, each with its baseline, against one broker and one fake API.</summary>
public sealed class Bench
{
    /// <summary>The polling of the runs that check often: 1 s between checks (wait queues of 1, 2 and 4 s).</summary>
    private static readonly Polling Fast = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(1));

    /// <summary>The polling of the memory runs: jobs that wait 10 minutes between checks.</summary>
    private static readonly Polling Slow = new(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(2));

    private const int DefaultLimit = 16;
    private const int HighLimit = 64;
    private const int RoundsInTurn = 4;
    private const int RateLimit = 50;

    /// <summary>The service's own throttle (issue 5) opened up, for the scenarios that measure the rest.</summary>
    private const int UnthrottledRate = 10_000;
    private static readonly TimeSpan ApiLatency = TimeSpan.FromMilliseconds(50);

    private readonly BenchOptions _options;
    private readonly Sizes _sizes;
    private readonly Uri _broker;
    private readonly string _nodeName;
    private readonly int[] _brokerPids;
    private readonly Rabbit _rabbit;
    private readonly FakeApi _api;
    private readonly CommandPublisher _publisher;
    private readonly EventListener _listener;
    private readonly List<Row> _throughputRows = [];
    private readonly List<Row> _latencyRows = [];
    private readonly List<Row> _otherRows = [];
    private readonly bool _throttled;
    private int _runs;

    private Bench(BenchOptions options, Dictionary<string, string> node, int brokerPid, Rabbit rabbit, FakeApi api, CommandPublisher publisher, EventListener listener)
    {
        _options = options;
        _sizes = options.Quick ? Sizes.Quick : Sizes.Full;
        if (options.Jobs is { } jobs) _sizes = _sizes with { Throughput = jobs, Throughput50Limit16 = jobs, Throughput50Limit64 = jobs };
        _broker = new Uri(node["RABBITMQ_URI"]);
        _nodeName = node["RABBITMQ_NODENAME"];
        _brokerPids = [brokerPid];
        _rabbit = rabbit;
        _api = api;
        _publisher = publisher;
        _listener = listener;
        _throttled = HasRateLimitOption(options.ServiceDll);
    }

    public static async Task<int> RunAsync(BenchOptions options)
    {
        var signals = ServiceProcess.KillAllOnSignals();
        var loadAtStart = LoadAverage();
        var startedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var node = File.ReadAllLines(Path.Combine(options.BrokerDir, "env")).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var brokerPid = NodePid(options.BrokerDir);

        await using var rabbit = await Rabbit.ConnectAsync(new Uri(node["RABBITMQ_URI"]));
        await rabbit.DeclareTopologyAsync();
        await using var api = await FakeApi.StartAsync();
        await using var publisher = await CommandPublisher.StartAsync(rabbit);
        await using var listener = await EventListener.StartAsync(rabbit);
        var bench = new Bench(options, node, brokerPid, rabbit, api, publisher, listener);

        Log($"{(options.Quick ? "quick" : "full")} run: broker {bench._broker}, fake API {api.BaseUrl}, service {options.ServiceDll}" +
            (bench._throttled ? $"; the service has AILabTools:MaxRequestsPerSecond: {UnthrottledRate} (and MaxConcurrentRequests = the concurrency limit) except in scenario 5" : ""));
        await bench.WarmUpFakeApi();
        if (options.Runs(1) || options.Runs(2)) await bench.ThroughputAndLatency();
        if (options.Runs(3)) await bench.PendingAtScale();
        if (options.Runs(4)) await bench.MemoryAtRest();
        if (options.Runs(5)) await bench.Politeness();
        if (options.Runs(6)) await bench.QueueTypes();
        if (options.Runs(7)) await bench.RegistryCost();
        if (options.Runs(8)) await bench.JobListing();
        if (options.Runs(9)) await bench.Archiving();

        var table = Table([.. bench._throughputRows, .. bench._latencyRows, .. bench._otherRows]);
        Console.WriteLine(table);
        Log($"done in {clock.Elapsed.TotalMinutes:0.0} min; {api.Strays} stray API calls, {listener.Strays} stray events");
        if (options.Out is { } output)
        {
            var previous = File.Exists(output) ? await File.ReadAllTextAsync(output) : "";
            var machine = Machine(rabbit, options.ServiceDll).ToList();
            await File.WriteAllTextAsync(output, Markdown(table, machine, bench.Setup(loadAtStart), options.Quick ? "quick" : "full", startedAt, clock.Elapsed, previous));
            Log($"wrote {output}");
        }

        foreach (var signal in signals) signal.Dispose();
        return 0;
    }

    /// <summary>How the service and the benchmark were set up, for docs/benchmarks.md.</summary>
    private IEnumerable<string> Setup(string loadAtStart)
    {
        yield return $"Service: `MessageBus:ConcurrentMessageLimit` as each row says; `Polling:Interval` {Fast.Interval.TotalSeconds:0} s " +
                     $"(`MaxInterval` {Fast.MaxInterval.TotalSeconds:0} s, `TransientRetryInterval` {Fast.TransientRetryInterval.TotalSeconds:0} s), " +
                     $"in scenario 4 {Slow.Interval.TotalMinutes:0} min; logging at Warning; everything else default.";
        yield return _throttled
            ? $"The service has issue 5's throttle: `AILabTools:MaxRequestsPerSecond` {N(UnthrottledRate)} and `MaxConcurrentRequests` = `ConcurrentMessageLimit` in scenarios 1-4, R = {RateLimit} (and the default `MaxConcurrentRequests`) in scenario 5."
            : "The service has no `AILabTools:MaxRequestsPerSecond` (issue 5): scenario 5 runs without a limit.";
        yield return $"Warm-up: each service process of scenario 1 runs batches of {N(_sizes.Warmup)} jobs for {_sizes.WarmupTime.TotalSeconds:0} s, and then until the runtime's tiered-compilation thread has used at most {SettledJitShare * 100:0} % of the service's CPU over two batches (no batch starts after {4 * _sizes.WarmupTime.TotalSeconds:0} s), before it is measured; so do those of scenarios 6 and 7; the others {N(2 * _sizes.Warmup)} jobs.";
        yield return $"Fake API: Kestrel on 127.0.0.1 in the benchmark process, fixed latency, prebuilt answers of {N(FakeApi.AnswerBytes)} bytes; commands and events through RabbitMQ.Client, {N(CommandPublisher.BatchSize)} publishes per confirm batch; events of the service {N(_listener.MeanEventBytes)} bytes on average.";
        yield return $"Load average (1 min) at the start: {loadAtStart}; at the end: {LoadAverage()}. Other processes' CPU time is in the last column of every row.";
    }

    private static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    // ---- Scenarios 1 and 2 ------------------------------------------------------------------

    /// <summary>
    /// Scenario 1: N jobs that succeed on the first check, as fast as they go, against (a) the bare
    /// broker loop and (b) the bare HTTP loop at the same concurrency. Scenario 2 (limit 16) on the
    /// same warm service: a fixed rate of half the throughput just measured, and the bare broker
    /// loop at that same rate.
    /// At API 0 ms, limit 16, the CPU sets the pace, and within a minute this machine's speed can
    /// drift by more than the margin measured (the benchmark's own CPU per job, which no change
    /// touches, moves too). So the service and (a) run in turn, <see cref="RoundsInTurn"/> rounds of
    /// N jobs each, in the order S a, a S, S a, a S (each side's mean place in the sequence the same,
    /// so a steady drift favours neither), and each side's rate is its jobs over its time in all
    /// rounds; each round's ratio is shown beside the result. The service stays up and idle during
    /// (a)'s rounds (its CPU meanwhile is shown with (a)'s), and (a)'s loop, warmed up once with N
    /// jobs, stays open through the service's rounds; the API 50 ms row at limit 16 takes its (a)
    /// from these rounds too. (b) runs once, after the service.
    /// </summary>
    private async Task ThroughputAndLatency()
    {
        foreach (var limit in _options.Trial ? [DefaultLimit] : new[] { DefaultLimit, HighLimit })
        {
            TimeSpan[] latencies = _options.Trial ? [TimeSpan.Zero] : limit == DefaultLimit ? [TimeSpan.Zero, ApiLatency] : [ApiLatency];
            var measured = new List<(TimeSpan Latency, int Jobs, List<Run> Runs)>();
            var halfLoads = new List<HalfLoad>();
            var bareRuns = new List<Run>();
            BareBrokerLoop? bareLoop = null;
            ushort prefetch;
            int warmup;
            try
            {
                await using (var service = await StartService(limit, Fast))
                {
                    warmup = await Warmup(service);
                    prefetch = await Prefetch() ?? (ushort)limit;
                    if (_options.Baselines) bareLoop = await StartBareLoop(prefetch, limit);
                    foreach (var latency in latencies)
                    {
                        var jobs = latency == TimeSpan.Zero ? _sizes.Throughput : limit == DefaultLimit ? _sizes.Throughput50Limit16 : _sizes.Throughput50Limit64;
                        var runs = new List<Run>();
                        if (bareLoop is not null && latency == TimeSpan.Zero && limit == DefaultLimit && _options.Runs(1))
                        {
                            for (var round = 1; round <= RoundsInTurn; round++)
                            {
                                var label = $"round {round} of {RoundsInTurn}";
                                if (round % 2 == 0) bareRuns.Add(await BareBrokerRun(limit, service, label));
                                runs.Add(await ServiceRun(service, jobs, latency, limit, label));
                                if (round % 2 == 1) bareRuns.Add(await BareBrokerRun(limit, service, label));
                            }
                        }
                        else
                        {
                            runs.Add(await ServiceRun(service, jobs, latency, limit));
                        }

                        measured.Add((latency, jobs, runs));
                        if (limit == DefaultLimit && _options.Runs(2)) halfLoads.Add(await LatencyAtHalfLoad(service, latency, RateOf(runs)));
                    }

                    Complain(service);
                }

                if (bareLoop is null)
                {
                    foreach (var (latency, jobs, runs) in measured)
                    {
                        _throughputRows.Add(new Row("1", $"trial: {N(jobs)} jobs, API {latency.TotalMilliseconds} ms, limit {limit}", $"{N(RateOf(runs))} checks/s", "", "", CpuOf(runs).PerJob(jobs)));
                    }

                    continue;
                }

                foreach (var half in halfLoads)
                {
                    Log($"2a: bare RabbitMQ.Client loop, {half.Rate:N0} commands/s for {half.Jobs} jobs");
                    var baseline = await Drive(half.Jobs, 0, TimeSpan.Zero, PublishAtRate(Names.BareIn, half.Rate), null);
                    var (p50, p99, max) = Delays(baseline.Tracker, TimeSpan.Zero);
                    Log($"   p50 {Ms(p50)} ms, p99 {Ms(p99)} ms, max {Ms(max)} ms");
                    _latencyRows.Add(new Row(
                        "2",
                        $"latency at half load: {N(half.Rate)} commands/s (½ of {N(half.MaxPerSecond)}) for {_sizes.LatencyRun.TotalSeconds:0} s, API {half.Latency.TotalMilliseconds} ms, limit {DefaultLimit}; " +
                        (half.Latency == TimeSpan.Zero ? "publish → TaskSucceeded received" : $"publish → TaskSucceeded received minus the API's {half.Latency.TotalMilliseconds} ms"),
                        $"p50 {Ms(half.P50)} · p99 {Ms(half.P99)} · max {Ms(half.Max)} ms",
                        $"(a) broker loop at the same rate: p50 {Ms(p50)} · p99 {Ms(p99)} · max {Ms(max)} ms",
                        $"p50 {(half.P50 >= p50 ? "+" : "-")}{Ms(Math.Abs(half.P50 - p50))} ms over (a)",
                        $"service run: {half.Cpu.PerJob(half.Jobs)}. (a): {baseline.Cpu.PerJob(half.Jobs, false)}"));
                }

                if (!_options.Runs(1)) continue;
                if (bareRuns.Count == 0) bareRuns.Add(await BareBrokerRun(limit, null));
                var bare = RateOf(bareRuns);
                var bareJobs = bareRuns.Sum(run => run.Tracker.Jobs);
                var bareCpu = CpuOf(bareRuns);
                var idleService = bareCpu.Service > TimeSpan.Zero ? $"; the service, idle meanwhile, {N(bareCpu.Service.TotalMicroseconds / bareJobs)} µs/job" : "";
                foreach (var (latency, jobs, runs) in measured)
                {
                    Log($"1b: bare HttpClient loop, API {latency.TotalMilliseconds} ms, concurrency {limit}, {jobs} jobs");
                    var (http, httpCpu) = await BareHttp(jobs, limit, latency);
                    Log($"   {http:N0} GETs/s ({httpCpu.PerJob(jobs, withService: false)})");
                    var perSecond = RateOf(runs);
                    var inTurn = runs.Count > 1;
                    var roundRatios = string.Join(", ", runs.Zip(bareRuns, (service, loop) => N(RateOf([service]) / RateOf([loop]), "0.00")));
                    _throughputRows.Add(new Row(
                        "1",
                        $"throughput: {N(jobs)} jobs succeeding at the 1st check, API {latency.TotalMilliseconds} ms, limit {limit} (prefetch {prefetch}){(inTurn ? $", {runs.Count} rounds in turn with (a)" : "")}",
                        $"{N(perSecond)} checks/s",
                        $"(a) broker loop {N(bare)}/s · (b) HTTP loop {N(http)}/s",
                        $"**{N(perSecond / Math.Min(bare, http), "0.00")}** × min(a, b){(inTurn ? $" (rounds against (a): {roundRatios})" : "")}",
                        $"service after {N(warmup)} warm-up jobs: {CpuOf(runs).PerJob(jobs * runs.Count)}. (a): {bareCpu.PerJob(bareJobs, false)}{idleService}. (b): {httpCpu.PerJob(jobs, false)}"));
                }
            }
            finally
            {
                if (bareLoop is not null) await bareLoop.DisposeAsync();
            }
        }
    }

    /// <summary>Jobs per second over all <paramref name="runs"/>: their jobs over their time.</summary>
    private static double RateOf(IReadOnlyCollection<Run> runs) => runs.Sum(run => run.Tracker.Jobs) / runs.Sum(run => run.Tracker.Elapsed.TotalSeconds);

    private static CpuUse CpuOf(IEnumerable<Run> runs) => runs.Select(run => run.Cpu).Aggregate((sum, next) => sum + next);

    private async Task<Run> ServiceRun(ServiceProcess service, int jobs, TimeSpan latency, int limit, string? label = null)
    {
        Log($"1: service, API {latency.TotalMilliseconds} ms, limit {limit}, {jobs} jobs{(label is null ? "" : $", {label}")}");
        var run = await Drive(jobs, 0, latency, PublishAll(Names.CheckQueue), service);
        Log($"   {RateOf([run]):N0} checks/s ({run.Cpu.PerJob(jobs)})");
        return run;
    }

    /// <summary>The bare broker loop (a), warmed up with as many jobs as a measured run.</summary>
    private async Task<BareBrokerLoop> StartBareLoop(ushort prefetch, int concurrency)
    {
        var loop = await BareBrokerLoop.StartAsync(_rabbit, prefetch, concurrency, (int)_listener.MeanEventBytes);
        Log($"1a: bare RabbitMQ.Client loop, prefetch {prefetch}, concurrency {concurrency}: warm-up, {_sizes.Throughput} jobs");
        await Drive(_sizes.Throughput, 0, TimeSpan.Zero, PublishAll(Names.BareIn), null);
        return loop;
    }

    /// <summary>One measured run of (a) at full speed; <paramref name="idleService"/>'s CPU meanwhile is counted as the service's.</summary>
    private async Task<Run> BareBrokerRun(int concurrency, ServiceProcess? idleService, string? label = null)
    {
        Log($"1a: bare RabbitMQ.Client loop, concurrency {concurrency}, {_sizes.Throughput} jobs{(label is null ? "" : $", {label}")}");
        var run = await Drive(_sizes.Throughput, 0, TimeSpan.Zero, PublishAll(Names.BareIn), idleService);
        Log($"   {RateOf([run]):N0} jobs/s ({run.Cpu.PerJob(_sizes.Throughput)})");
        return run;
    }

    private async Task<HalfLoad> LatencyAtHalfLoad(ServiceProcess service, TimeSpan latency, double maxPerSecond)
    {
        var rate = maxPerSecond / 2;
        var jobs = Math.Max(100, (int)(rate * _sizes.LatencyRun.TotalSeconds));
        Log($"2: service, API {latency.TotalMilliseconds} ms, {rate:N0} commands/s for {jobs} jobs");
        var run = await Drive(jobs, 0, latency, PublishAtRate(Names.CheckQueue, rate), service);
        var (p50, p99, max) = Delays(run.Tracker, latency);
        Log($"   p50 {Ms(p50)} ms, p99 {Ms(p99)} ms, max {Ms(max)} ms");
        return new HalfLoad(latency, maxPerSecond, rate, jobs, p50, p99, max, run.Cpu);
    }

    /// <summary>p50, p99 and max of publish → TaskSucceeded received, minus the API's latency, in seconds.</summary>
    private static (double P50, double P99, double Max) Delays(EventTracker tracker, TimeSpan latency)
    {
        var delays = Enumerable.Range(0, tracker.Jobs)
            .Select(i => Stats.Seconds(tracker.PublishedAt[i], tracker.SucceededAt[i]) - latency.TotalSeconds)
            .Order().ToArray();
        return (Stats.Percentile(delays, 50), Stats.Percentile(delays, 99), delays[^1]);
    }

    private sealed record HalfLoad(TimeSpan Latency, double MaxPerSecond, double Rate, int Jobs, double P50, double P99, double Max, CpuUse Cpu);

    private async Task<(double PerSecond, CpuUse Cpu)> BareHttp(int jobs, int concurrency, TimeSpan latency)
    {
        var warmup = new ApiRun($"r{++_runs}", _sizes.Warmup, 0, latency);
        _api.Begin(warmup);
        await BareHttpLoop.RunAsync(_api.BaseUrl, warmup.Tag, Math.Min(_sizes.Warmup, concurrency * 20), concurrency);
        var run = new ApiRun($"r{++_runs}", jobs, 0, latency);
        _api.Begin(run);
        var before = CpuUse.Read(null, _brokerPids);
        var elapsed = await BareHttpLoop.RunAsync(_api.BaseUrl, run.Tag, jobs, concurrency);
        return (jobs / elapsed.TotalSeconds, CpuUse.Read(null, _brokerPids) - before);
    }

    // ---- Scenario 3 -------------------------------------------------------------------------

    /// <summary>Jobs pending for three checks, one second apart, then done: how far apart the checks really are.</summary>
    private async Task PendingAtScale()
    {
        const int pendingChecks = 3;
        var jobs = _sizes.Pending;
        await using var service = await StartService(DefaultLimit, Fast);
        await Warmup(service, untilSteady: false);
        Log($"3: service, {jobs} jobs pending for {pendingChecks} checks at {Fast.Interval.TotalSeconds} s, then success");
        var run = await Drive(jobs, pendingChecks, TimeSpan.Zero, PublishAll(Names.CheckQueue), service, TimeSpan.FromMinutes(10));
        var (rss, peak) = service.Memory();
        Complain(service);

        var gaps = new double[jobs * pendingChecks];
        var firstChecks = new double[jobs];
        for (var i = 0; i < jobs; i++)
        {
            firstChecks[i] = Stats.Seconds(run.Tracker.PublishedAt[i], run.Api.CallTime(i, 0));
            for (var check = 1; check <= pendingChecks; check++)
            {
                gaps[i * pendingChecks + check - 1] = Stats.Seconds(run.Api.CallTime(i, check - 1), run.Api.CallTime(i, check));
            }
        }

        Array.Sort(gaps);
        Array.Sort(firstChecks);
        var checks = jobs * (pendingChecks + 1);
        var took = run.Tracker.Elapsed.TotalSeconds;
        var (p50, p99, max) = (Stats.Percentile(gaps, 50), Stats.Percentile(gaps, 99), gaps[^1]);
        Log($"   gaps p50 {p50:0.000} s, p99 {p99:0.000} s, max {max:0.000} s; {checks / took:N0} checks/s; peak RSS {Mb(peak)}");
        _otherRows.Add(new Row(
            "3",
            $"pending at scale: {N(jobs)} jobs published at once, QUEUING for {pendingChecks} checks then PROCESS_SUCCESS, Polling:Interval {Fast.Interval.TotalSeconds:0} s, limit {DefaultLimit}",
            $"gap between checks p50 {p50:0.000} · p99 {p99:0.000} · max {max:0.000} s",
            $"configured {Fast.Interval.TotalSeconds:0.000} s",
            $"p50 {N((p50 / Fast.Interval.TotalSeconds - 1) * 100, "+0;-0;0")}%, max {N((max / Fast.Interval.TotalSeconds - 1) * 100, "+0;-0;0")}%",
            $"{N(checks)} checks in {took:0.0} s = {N(checks / took)} checks/s, so one round of {N(jobs)} checks takes {jobs / (checks / took):0.0} s; publish → 1st check p50 {firstChecks[jobs / 2]:0.00} s, max {firstChecks[^1]:0.00} s; {run.Cpu.PerJob(checks)} (per check)"));
        _otherRows.Add(new Row(
            "3",
            "service memory during scenario 3",
            $"peak RSS (VmHWM) {Mb(peak)}",
            $"RSS after the run {Mb(rss)}",
            "",
            $"fresh process: {N(2 * _sizes.Warmup)} warm-up jobs, then the run"));
        await _rabbit.PurgeAsync([Names.CheckQueue, .. Fast.WaitQueues]);
    }

    // ---- Scenario 4 -------------------------------------------------------------------------

    /// <summary>
    /// The service's RSS at rest with 0 and with N jobs waiting in the broker (in the wait queue of
    /// a 10-minute interval, where a pending job waits), both after the same warm-up. Then, for
    /// contrast, N commands queued in front of the service while the API stalls.
    /// </summary>
    private async Task MemoryAtRest()
    {
        var waiting = _sizes.Waiting;
        var waitQueue = Names.WaitQueue(Slow.Interval);

        Log("4: service at rest, 0 jobs waiting");
        var empty = await RestingMemory();

        Log($"4: {waiting} jobs into {waitQueue} while the service is stopped");
        var commands = CommandPublisher.Build($"r{++_runs}", waiting);
        var now = DateTimeOffset.UtcNow;
        var progress = new Dictionary<string, object?>
        {
            // What the service's WaitQueueRecheckScheduler writes after a first pending check.
            ["TaskResults-Attempt"] = "1",
            ["TaskResults-First-Check-At"] = now.ToString("O", CultureInfo.InvariantCulture),
            ["TaskResults-Deadline"] = now.AddMinutes(30).ToString("O", CultureInfo.InvariantCulture),
            ["TaskResults-Transient-Errors"] = "0",
        };
        var publishing = Stopwatch.StartNew();
        await _publisher.PublishAllAsync(waitQueue, commands, null, progress);
        var inQueue = await _rabbit.MessageCountAsync(waitQueue);
        Log($"   published in {publishing.Elapsed.TotalSeconds:0.0} s; {inQueue} in {waitQueue}");

        Log($"4: service at rest, {waiting} jobs waiting");
        var loaded = await RestingMemory();
        await _rabbit.PurgeAsync(waitQueue);

        _otherRows.Add(new Row(
            "4",
            $"memory at rest: {N(waiting)} jobs waiting in the broker ({N(inQueue ?? 0)} counted in {waitQueue}), service started after they were queued",
            $"RSS {Mb(loaded.Rss)} (peak {Mb(loaded.Peak)})",
            $"0 jobs waiting: RSS {Mb(empty.Rss)} (peak {Mb(empty.Peak)})",
            $"{N((loaded.Rss - empty.Rss) / 1024.0 / 1024.0, "+0.0;-0.0;0.0")} MiB ({N(((double)loaded.Rss / empty.Rss - 1) * 100, "+0;-0;0")}%)",
            $"each: fresh process, {N(2 * _sizes.Warmup)} warm-up checks, {_sizes.Settle.TotalSeconds:0} s idle, then the mean of 3 readings 1 s apart; once started, before the warm-up: {Mb(empty.Started)} with 0 waiting, {Mb(loaded.Started)} with {N(waiting)}"));

        Log($"4: {waiting} commands in front of the service while the API stalls");
        var stalled = new ApiRun($"r{++_runs}", waiting, 0, TimeSpan.FromMinutes(10));
        await _publisher.PublishAllAsync(Names.CheckQueue, CommandPublisher.Build(stalled.Tag, waiting));
        _api.Begin(stalled);
        await using (var service = await StartService(DefaultLimit, Slow))
        {
            await Task.Delay(_sizes.Settle);
            var held = await SampleMemory(service);
            var calls = stalled.Calls;
            await service.KillAsync();
            _otherRows.Add(new Row(
                "4",
                $"contrast: {N(waiting)} commands queued in front of the service, API stalled (no call returns)",
                $"RSS {Mb(held.Rss)} (peak {Mb(held.Peak)})",
                $"0 jobs waiting, fresh process idle: RSS {Mb(empty.Started)}",
                $"{N(calls)} calls in flight",
                $"fresh process, no warm-up, {_sizes.Settle.TotalSeconds:0} s after start: the backlog stays in the broker"));
        }

        await _rabbit.PurgeAsync([Names.CheckQueue, .. Slow.WaitQueues]);
    }

    /// <summary>A fresh service: its RSS once started and idle, then after a fixed warm-up and idle again.</summary>
    private async Task<Resting> RestingMemory()
    {
        await using var service = await StartService(DefaultLimit, Slow);
        await Task.Delay(_sizes.Settle);
        var started = await SampleMemory(service);
        await Warmup(service, untilSteady: false);
        await Task.Delay(_sizes.Settle);
        var (rss, peak) = await SampleMemory(service);
        Log($"   RSS {Mb(started.Rss)} once started, {Mb(rss)} after the warm-up; peak {Mb(peak)}");
        Complain(service);
        return new Resting(started.Rss, rss, peak);
    }

    private sealed record Resting(long Started, long Rss, long Peak);

    private static async Task<(long Rss, long Peak)> SampleMemory(ServiceProcess service)
    {
        long sum = 0;
        for (var i = 0; i < 3; i++)
        {
            if (i > 0) await Task.Delay(TimeSpan.FromSeconds(1));
            sum += service.Memory().Rss;
        }

        return (sum / 3, service.Memory().Peak);
    }

    // ---- Scenario 5 -------------------------------------------------------------------------

    /// <summary>A backlog of N jobs in front of a freshly started service: requests per second toward the API.</summary>
    private async Task Politeness()
    {
        var limit = _throttled ? RateLimit : (int?)null;
        var jobs = _sizes.Backlog;
        var window = limit is null ? TimeSpan.FromMinutes(5) : _sizes.PolitenessWindow;
        var tag = $"r{++_runs}";
        var run = new ApiRun(tag, jobs, 0, TimeSpan.Zero, jobs + 1_000);
        var tracker = new EventTracker(tag, jobs);
        _api.Begin(run);
        _listener.Track(tracker);
        await EnsureCheckQueue();
        Log($"5: {jobs} jobs queued before the service starts, {(limit is null ? "no rate limit" : $"AILabTools:MaxRequestsPerSecond {limit}")}");
        await _publisher.PublishAllAsync(Names.CheckQueue, CommandPublisher.Build(tag, jobs), tracker.PublishedAt);

        await using (var service = await StartService(DefaultLimit, Fast, limit))
        {
            var before = CpuUse.Read(service.Pid, _brokerPids);
            // The window opens at the first call and closes after `window` or when the backlog is gone.
            var waiting = Stopwatch.StartNew();
            while (run.Calls == 0)
            {
                if (waiting.Elapsed > TimeSpan.FromMinutes(1)) throw new TimeoutException("The service made no call within a minute of starting.");
                await Task.Delay(10);
            }

            var opened = Stopwatch.StartNew();
            while (opened.Elapsed < window && tracker.Succeeded < jobs) await Task.Delay(50);
            var cpu = CpuUse.Read(service.Pid, _brokerPids) - before;
            Complain(service);

            // The window: from the first call, for `window` (a limit) or until the backlog is gone (no limit).
            var all = run.AllCallTimes.ToArray();
            Array.Sort(all);
            var from = all[0];
            var to = limit is null ? all[^1] : from + (long)(window.TotalSeconds * Stopwatch.Frequency);
            var times = all.Where(t => t <= to).ToArray();
            var second = TimeSpan.FromSeconds(1);
            var (peak, peakAt) = Stats.MaxInWindow(times, second);
            var span = Stats.Seconds(from, to);
            var average = Stats.MeanInWindow(times, from, to, second);
            var perSecond = times.GroupBy(t => (int)Stats.Seconds(from, t)).OrderBy(g => g.Key).Select(g => g.Count()).ToList();
            Log($"   {times.Length} calls in {span:0.0} s: max {peak} in any 1 s (from +{Stats.Seconds(from, peakAt):0.000} s), average {average:N1}/s; per second from the first call: {string.Join(" ", perSecond)}");
            var verdict = limit is { } r
                ? (peak <= r && average >= 0.9 * r ? "**met**" : "**missed**") + $" (target: max ≤ {r}, average ≥ {0.9 * r:0})"
                : "no rate limit configured (issue 5)";
            _otherRows.Add(new Row(
                "5",
                $"politeness: backlog of {N(jobs)} jobs, service started on it, limit {DefaultLimit}, {(limit is null ? "no rate limit" : $"R = {limit} requests/s")}",
                $"max {N(peak)} requests in any 1 s window · average {N(average, "N1")}/s",
                limit is null ? "R not set" : $"R = {limit}/s",
                verdict,
                $"{N(times.Length)} calls over {span:0.0} s{(limit is null ? "" : $" (window {window.TotalSeconds:0} s)")}; the busiest window starts {Stats.Seconds(from, peakAt):0.00} s after the first call; " +
                $"calls per second from the first call: {string.Join(", ", perSecond.Take(5))}, …; {cpu.PerJob(Math.Max(1, times.Length))}"));
        }

        _listener.Track(null);
        await _rabbit.PurgeAsync([Names.CheckQueue, .. Fast.WaitQueues]);
    }

    /// <summary>Whether the built service has <c>AILabTools:MaxRequestsPerSecond</c> (issue 5), read without running it.</summary>
    private static bool HasRateLimitOption(string serviceDll)
    {
        var context = new AssemblyLoadContext("service-options", isCollectible: true);
        try
        {
            var type = context.LoadFromAssemblyPath(Path.GetFullPath(serviceDll)).GetType("TaskResults.Service.Options.AILabToolsOptions", throwOnError: false);
            return type?.GetProperty("MaxRequestsPerSecond") is not null;
        }
        catch (Exception exception) when (exception is IOException or BadImageFormatException or TypeLoadException)
        {
            return false;
        }
        finally
        {
            context.Unload();
        }
    }

    // ---- Scenario 6 -------------------------------------------------------------------------

    /// <summary>
    /// The command queue's type: the quorum queue the service declares by default against the classic
    /// queue of earlier versions (<c>MessageBus:CommandQueue=Classic</c>), throughput at API 0 ms and
    /// limit 16 as in scenario 1, on the single node and on a 3-node cluster, each run on a fresh
    /// queue and a fresh, warmed-up service.
    /// </summary>
    private async Task QueueTypes()
    {
        var jobs = _sizes.Throughput;
        var node = new BrokerUnderTest("one node", _broker.ToString(), _rabbit, _publisher, _listener, _brokerPids);
        await QueueTypesOn(node, jobs);

        // Started only now: three idle Erlang nodes beside the other scenarios would take their share of the cores.
        Log($"6: starting a 3-node cluster in {_options.ClusterDir}");
        await Scripts.RabbitMq("start", _options.ClusterDir!, "--nodes", "3");
        try
        {
            await using var cluster = await BrokerUnderTest.StartAsync(_options.ClusterDir!);
            await QueueTypesOn(cluster, jobs);
        }
        finally
        {
            await Scripts.RabbitMq("stop", _options.ClusterDir!);
        }
    }

    private async Task QueueTypesOn(BrokerUnderTest broker, int jobs)
    {
        var measured = new Dictionary<string, (double PerSecond, CpuUse Cpu)>();
        foreach (var type in new[] { "Quorum", "Classic" })
        {
            await broker.Rabbit.DeleteQueuesAsync(Names.CommandQueues);
            await using var service = await StartService(DefaultLimit, Fast, on: broker, commandQueue: type);
            await Warmup(service, on: broker);
            Log($"6: {type.ToLowerInvariant()} command queue on {broker.Name}, API 0 ms, limit {DefaultLimit}, {jobs} jobs");
            var run = await Drive(jobs, 0, TimeSpan.Zero, PublishAll(Names.CheckQueue, broker.Publisher), service, on: broker);
            measured[type] = (jobs / run.Tracker.Elapsed.TotalSeconds, run.Cpu);
            Log($"   {measured[type].PerSecond:N0} checks/s ({run.Cpu.PerJob(jobs)})");
            Complain(service);
        }

        // The other scenarios, and the next run of the benchmark, find the default again.
        await broker.Rabbit.DeleteQueuesAsync(Names.CommandQueues);
        var (quorum, classic) = (measured["Quorum"], measured["Classic"]);
        _otherRows.Add(new Row(
            "6",
            $"command queue type on {broker.Name}: {N(jobs)} jobs succeeding at the 1st check, API 0 ms, limit {DefaultLimit}",
            $"quorum queue {N(quorum.PerSecond)} checks/s",
            $"classic queue {N(classic.PerSecond)} checks/s",
            $"**{N(quorum.PerSecond / classic.PerSecond, "0.00")}** × classic",
            $"quorum: {quorum.Cpu.PerJob(jobs)}. classic: {classic.Cpu.PerJob(jobs)}"));
    }

    // ---- Scenario 7 -------------------------------------------------------------------------

    /// <summary>
    /// What the job registry and the shared API budget cost (issue 13): the same runs with
    /// <c>Registry:Store</c> None and Redis (a private redis-server, started here): at API 0 ms, jobs
    /// succeeding at the first check (a chain begun and finished: two Redis round trips for the chain,
    /// one for the budget) and jobs pending once (a step rescheduled too), where the CPU of the service,
    /// the broker and redis-server sets the pace; and at API 50 ms with limit 64, where the API does, as
    /// scenario 1's last row.
    /// This machine's speed drifts by a third within minutes, more than the cost sought, so the two run
    /// in turn as scenario 1's service and broker loop do: both services started (the Redis one on a
    /// virtual host of its own, so that each has its own command queue) and warmed up one after the
    /// other, then <see cref="RoundsInTurn"/> rounds in the order N R, R N, N R, R N. The result is each
    /// side's checks over its time in all rounds (each round's ratio beside it); the other service's
    /// CPU meanwhile is shown apart.
    /// </summary>
    private async Task RegistryCost()
    {
        await using var redis = new Tests.Support.RedisProcess();
        await redis.StartAsync();
        Log($"7: redis-server on 127.0.0.1:{redis.Port}");
        await using var own = await OnVirtualHostAsync("bench-registry");
        RegistryCase[] cases =
        [
            new(_sizes.Throughput, 0, TimeSpan.Zero, DefaultLimit),
            new(_sizes.Pending, 1, TimeSpan.Zero, DefaultLimit),
            new(_sizes.Throughput50Limit64, 0, ApiLatency, HighLimit),
        ];
        var measured = new List<(string Store, RegistryCase Case, Run Run, TimeSpan Redis, TimeSpan Idle)>();
        foreach (var limit in cases.Select(@case => @case.Limit).Distinct())
        {
            await using var none = await StartService(limit, Fast);
            await using var shared = await StartService(limit, Fast, on: own, extra: new Dictionary<string, string>
            {
                ["Registry__Store"] = "Redis",
                ["ConnectionStrings__Redis"] = redis.ConnectionString.Split(',')[0],
                ["Registry__KeyPrefix"] = $"bench-{_runs}",
            });
            Log("7: warm-up of the None service, then of the Redis one, then two more batches for the None one (idle meanwhile)");
            await Warmup(none);
            await Warmup(shared, on: own);
            await Warmup(none, untilSteady: false);
            foreach (var @case in cases.Where(@case => @case.Limit == limit))
            {
                for (var round = 1; round <= RoundsInTurn; round++)
                {
                    string[] order = round % 2 == 1 ? ["None", "Redis"] : ["Redis", "None"];
                    foreach (var store in order)
                    {
                        var (service, on, idle) = store == "None" ? (none, null, shared) : (shared, own, none);
                        Log($"7: round {round} of {RoundsInTurn}, Registry:Store={store}, {@case}");
                        var (redisBefore, idleBefore) = (ProcStats.Cpu(redis.Pid), ProcStats.Cpu(idle.Pid));
                        var run = await Drive(@case.Jobs, @case.Pending, @case.Latency, PublishAll(Names.CheckQueue, on?.Publisher), service, on: on);
                        var (redisUsed, idleUsed) = (ProcStats.Cpu(redis.Pid) - redisBefore, ProcStats.Cpu(idle.Pid) - idleBefore);
                        measured.Add((store, @case, run, redisUsed, idleUsed));
                        Log($"   {@case.Checks / run.Tracker.Elapsed.TotalSeconds:N0} checks/s ({run.Cpu.PerJob(@case.Checks)}; redis {redisUsed.TotalMicroseconds / @case.Checks:N0}, the other service {idleUsed.TotalMicroseconds / @case.Checks:N0} µs/check)");
                    }
                }
            }

            Complain(none);
            Complain(shared);
        }

        // Where redis-server's time went: calls and µs per call of each command (EVALSHA: the scripts, from the client's cache).
        var commands = (await redis.CliAsync("INFO", "commandstats")).Split('\n').Where(line => line.StartsWith("cmdstat_", StringComparison.Ordinal))
            .Select(line => line.Trim().Replace("cmdstat_", "", StringComparison.Ordinal));
        Log($"   redis-server commands: {string.Join("; ", commands)}; {own.Listener.Strays} stray events on {own.Name}");

        foreach (var @case in cases)
        {
            var noneMeasured = measured.Where(run => run.Store == "None" && run.Case == @case).ToList();
            var shared = measured.Where(run => run.Store == "Redis" && run.Case == @case).ToList();
            var (none, sharedRuns) = (noneMeasured.Select(run => run.Run).ToList(), shared.Select(run => run.Run).ToList());
            var rounds = string.Join(", ", none.Zip(sharedRuns, (n, r) => N(RateOf([r]) / RateOf([n]), "0.00")));
            var checks = @case.Checks * RoundsInTurn;
            _otherRows.Add(new Row(
                "7",
                $"job registry's cost: {@case}, {RoundsInTurn} rounds in turn",
                $"Registry:Store=Redis {N(RateOf(sharedRuns) * (@case.Pending + 1))} checks/s",
                $"None {N(RateOf(none) * (@case.Pending + 1))} checks/s",
                $"**{N(RateOf(sharedRuns) / RateOf(none), "0.00")}** × None (rounds: {rounds})",
                $"Redis: {CpuOf(sharedRuns).PerJob(checks)}, of which redis-server {N(shared.Sum(run => run.Redis.TotalMicroseconds) / checks)} µs/check " +
                $"and the None service, idle meanwhile, {N(shared.Sum(run => run.Idle.TotalMicroseconds) / checks)}. None: {CpuOf(none).PerJob(checks)}, " +
                $"of which the Redis service, idle meanwhile, {N(noneMeasured.Sum(run => run.Idle.TotalMicroseconds) / checks)} µs/check (per check, all rounds)"));
        }
    }

    /// <summary>One run of scenario 7: <paramref name="Jobs"/> jobs pending <paramref name="Pending"/> times (1 s apart), then succeeding.</summary>
    private sealed record RegistryCase(int Jobs, int Pending, TimeSpan Latency, int Limit)
    {
        public int Checks => Jobs * (Pending + 1);

        public override string ToString() =>
            $"{N(Jobs)} jobs {(Pending == 0 ? "succeeding at the 1st check" : $"pending once ({Fast.Interval.TotalSeconds:0} s), then success")}, API {Latency.TotalMilliseconds} ms, limit {Limit}";
    }

    // ---- Scenario 8 -------------------------------------------------------------------------

    /// <summary>
    /// Listing jobs (issue 14): as many pending jobs as scenario 3 in the Redis registry, each checked once by
    /// the real service and then waiting (10 min), and the first page of <c>GET /jobs?state=pending</c> asked
    /// again and again, one request after another on a kept-alive connection, as a script or the page would.
    /// </summary>
    private async Task JobListing()
    {
        const string token = "bench-admin-token-0123456789abcdef";
        const int asks = 200;
        await using var redis = new Tests.Support.RedisProcess();
        await redis.StartAsync();
        var jobs = _sizes.Pending;
        var prefix = $"bench-{_runs}";
        await using var service = await StartService(DefaultLimit, Slow, extra: new Dictionary<string, string>
        {
            ["Registry__Store"] = "Redis",
            ["ConnectionStrings__Redis"] = redis.ConnectionString.Split(',')[0],
            ["Registry__KeyPrefix"] = prefix,
            ["Admin__Token"] = token,
        });

        Log($"8: {jobs} jobs checked once (QUEUING), then waiting {Slow.Interval.TotalMinutes:0} min in the Redis registry");
        var run = new ApiRun($"r{++_runs}", jobs, 1, TimeSpan.Zero);
        _api.Begin(run);
        // Its jobs' TaskPending events are this run's, not strays.
        _listener.Track(new EventTracker(run.Tag, jobs));
        await _publisher.PublishAllAsync(Names.CheckQueue, CommandPublisher.Build(run.Tag, jobs));
        var until = Stopwatch.StartNew();
        while ((await redis.CliAsync("ZCARD", $"{prefix}:jobs:Pending")).Trim() != jobs.ToString(CultureInfo.InvariantCulture))
        {
            if (until.Elapsed > TimeSpan.FromMinutes(3)) throw new TimeoutException($"{run.Calls} of {jobs} jobs checked within 3 minutes.");
            await Task.Delay(200);
        }

        using var http = new HttpClient { BaseAddress = await service.AddressAsync() };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        async Task<double[]> Ask(string path, int times)
        {
            var took = new double[times];
            for (var i = 0; i < times; i++)
            {
                var start = Stopwatch.GetTimestamp();
                using var response = await http.GetAsync(path);
                var body = await response.Content.ReadAsByteArrayAsync();
                took[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (!response.IsSuccessStatusCode || body.Length < 100) throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode}");
            }

            Array.Sort(took);
            return took;
        }

        await Ask("/jobs?state=pending&limit=50", 20);
        var first = await Ask("/jobs?state=pending&limit=50", asks);
        var large = await Ask("/jobs?state=pending&limit=500", asks / 4);
        // Every job, a page of 500 after the other, following each page's cursor.
        var (walked, pages, walk) = (0, 0, Stopwatch.StartNew());
        for (string? cursor = ""; cursor is not null; pages++)
        {
            using var page = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"/jobs?state=pending&limit=500&cursor={Uri.EscapeDataString(cursor)}"));
            walked += page.RootElement.GetProperty("jobs").GetArrayLength();
            cursor = page.RootElement.GetProperty("next").GetString();
        }

        walk.Stop();
        if (walked != jobs) throw new InvalidOperationException($"Walking the pages listed {walked} of {jobs} pending jobs.");
        static string Ms(double ms) => $"{ms.ToString("0.0", CultureInfo.InvariantCulture)} ms";
        static double At(double[] sorted, double q) => sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(q * sorted.Length))];
        Log($"   first page (50): median {Ms(At(first, 0.5))}, p95 {Ms(At(first, 0.95))}, max {Ms(first[^1])}; 500: median {Ms(At(large, 0.5))}; all {walked} in {pages} pages of 500: {Ms(walk.Elapsed.TotalMilliseconds)}");
        _otherRows.Add(new Row(
            "8",
            $"listing jobs: GET /jobs?state=pending with {N(jobs)} pending jobs in the Redis registry, first page of 50, {asks} requests one after another",
            $"median **{Ms(At(first, 0.5))}**",
            $"p95 {Ms(At(first, 0.95))}, max {Ms(first[^1])}",
            $"500 a page: median {Ms(At(large, 0.5))}; all {N(walked)} jobs, {pages} pages of 500 one after another: {Ms(walk.Elapsed.TotalMilliseconds)}",
            $"over HTTP with the bearer token, kept-alive connection; one Redis script call per page"));
        Complain(service);
        _listener.Track(null);
        await _rabbit.PurgeAsync([Names.CheckQueue, .. Slow.WaitQueues]);
    }

    // ---- Scenario 9 -------------------------------------------------------------------------

    /// <summary>
    /// Archiving (issue 15): files of 1 MB from a file host on 127.0.0.1 stored by the service into the file-system
    /// store and into s3rver (started here from .tools/npm), against a bare HttpClient download-and-write loop at the
    /// same concurrency in the same run; then the service's RSS while it archives files of 5 MB (it streams: RSS should
    /// not grow with the file size).
    /// </summary>
    private async Task Archiving()
    {
        const int concurrency = 4;
        var (count, bigCount) = _options.Quick ? (50, 50) : (500, 1_000);
        var oneMb = new byte[1024 * 1024];
        var fiveMb = new byte[5 * 1024 * 1024];
        Random.Shared.NextBytes(oneMb);
        Random.Shared.NextBytes(fiveMb);
        var (fileApp, fileHost) = await Tests.Support.LoopbackWebApp.StartAsync(app => app.MapGet("/files/{size}/{name}",
            async (Microsoft.AspNetCore.Http.HttpContext http, string size) =>
            {
                // "w": the warm-up's small files, which take the same code paths for a fraction of the bytes.
                var body = size switch { "5" => fiveMb, "w" => oneMb.AsMemory(0, 64 * 1024), _ => oneMb };
                http.Response.ContentType = "application/octet-stream";
                http.Response.ContentLength = body.Length;
                await http.Response.Body.WriteAsync(body);
            }));
        await using var files = fileApp;
        var work = Directory.CreateTempSubdirectory("taskresults-bench-archive-");
        await using var s3 = await S3Rver.StartAsync(Path.Combine(work.FullName, "s3rver"));
        try
        {
            // The bare loop: GET and write to a file, the same files at the same concurrency; warmed up like the service.
            using var bareHttp = new HttpClient();
            var bareDir = Directory.CreateDirectory(Path.Combine(work.FullName, "bare")).FullName;
            // With hashing: the same loop computing the SHA-256 every TaskResultsArchived carries, as a second reference.
            Task BareLoop(string size, int files, bool hashing = false) => Parallel.ForEachAsync(Enumerable.Range(0, files), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, token) =>
            {
                await using var body = await bareHttp.GetStreamAsync($"{fileHost}/files/{size}/bare-{i}", token);
                await using var file = File.Create(Path.Combine(bareDir, $"{Guid.NewGuid():N}.bin"));
                if (!hashing)
                {
                    await body.CopyToAsync(file, token);
                    return;
                }

                using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
                var buffer = new byte[81920];
                int read;
                while ((read = await body.ReadAsync(buffer, token)) > 0)
                {
                    sha.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), token);
                }
            });
            var bareWarmup = Stopwatch.StartNew();
            while (bareWarmup.Elapsed < _sizes.WarmupTime) await Task.WhenAll(BareLoop("w", 200), BareLoop("w", 200, hashing: true));
            await BareLoop("1", 100);
            await BareLoop("1", 100, hashing: true);
            var bare = Stopwatch.StartNew();
            await BareLoop("1", count);
            var bareSeconds = bare.Elapsed.TotalSeconds;
            var bareMbps = count / bareSeconds;
            var hashed = Stopwatch.StartNew();
            await BareLoop("1", count, hashing: true);
            var hashedMbps = count / hashed.Elapsed.TotalSeconds;
            Log($"9: bare HttpClient loop: {count} files of 1 MB in {bareSeconds:0.00} s = {bareMbps:0} MB/s; with SHA-256: {hashedMbps:0} MB/s");

            var results = new List<(string Store, double Mbps, CpuUse Cpu)>();
            foreach (var store in new[] { "FileSystem", "S3" })
            {
                var (seconds, cpu, _) = await ArchiveRun(store, count, "1", fileHost, work.FullName, s3, concurrency);
                results.Add((store, count / seconds, cpu));
                Log($"   {store}: {count} files of 1 MB in {seconds:0.0} s = {count / seconds:0} MB/s ({cpu.PerJob(count)})");
            }

            var (bigSeconds, _, memory) = await ArchiveRun("FileSystem", bigCount, "5", fileHost, work.FullName, s3, concurrency);
            Log($"   FileSystem: {bigCount} files of 5 MB in {bigSeconds:0.0} s; service RSS {Mb(memory.Start)} before, peak {Mb(memory.Peak)}, {Mb(memory.End)} after");
            foreach (var (store, mbps, cpu) in results)
            {
                _otherRows.Add(new Row(
                    "9",
                    $"archiving into the {(store == "S3" ? "S3 store (s3rver)" : "file-system store")}: {N(count)} files of 1 MB from a file host on 127.0.0.1, Archive:ConcurrentArchives {concurrency}",
                    $"{N(mbps, "0")} MB/s",
                    $"bare HttpClient download-and-write loop {N(bareMbps, "0")} MB/s; with SHA-256 {N(hashedMbps, "0")} MB/s",
                    $"**{N(mbps / bareMbps, "0.00")}** × bare ({N(mbps / hashedMbps, "0.00")} × with SHA-256)",
                    cpu.PerJob(count)));
            }

            _otherRows.Add(new Row(
                "9",
                $"memory while archiving {N(bigCount)} files of 5 MB into the file-system store",
                $"peak RSS {Mb(memory.Peak)}",
                $"the same with 1 MB files: peak RSS {Mb(_archivePeak1Mb)}",
                $"{N((memory.Peak - _archivePeak1Mb) / 1024.0 / 1024.0, "+0.0;-0.0;0.0")} MiB for 5 × the file size",
                $"{N(bigCount * 5 / bigSeconds, "0")} MB/s; RSS {Mb(memory.Start)} after the warm-up, {Mb(memory.End)} at the end; peak = VmHWM of the fresh process (warm-up included)"));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private long _archivePeak1Mb;

    /// <summary>One fresh service archiving a warm-up, then <paramref name="count"/> files: the time from their first command to their last event, and the service's RSS.</summary>
    private async Task<(double Seconds, CpuUse Cpu, (long Start, long Peak, long End) Memory)> ArchiveRun(string store, int count, string size, string fileHost,
        string work, S3Rver s3, int concurrency)
    {
        var environment = new Dictionary<string, string>
        {
            ["Archive__Store"] = store,
            ["Archive__AllowedHosts__0"] = "127.0.0.1",
            ["Archive__ConcurrentArchives"] = concurrency.ToString(CultureInfo.InvariantCulture),
            ["Archive__Directory"] = Path.Combine(work, $"store-{++_runs}"),
            ["Archive__S3__Bucket"] = S3Rver.Bucket,
            ["Archive__S3__ServiceUrl"] = s3.ServiceUrl,
            ["Archive__S3__ForcePathStyle"] = "true",
            ["Archive__S3__Region"] = "us-east-1",
            ["AWS_ACCESS_KEY_ID"] = "S3RVER",
            ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
        };
        await using var service = await StartService(DefaultLimit, Fast, extra: environment);
        var counted = $"bench-archived-{_runs}";
        await _rabbit.DeclareCountingQueueAsync("TaskResults.Contracts:TaskResultsArchived", counted);
        var expireAt = DateTimeOffset.UtcNow.AddHours(24).ToString("O", CultureInfo.InvariantCulture);
        var sent = 0;
        Command[] Commands(string fileSize, int files) => Enumerable.Range(sent, files).Select(i =>
        {
            var id = Guid.NewGuid().ToString();
            var json = $"{{\"messageId\":\"{id}\",\"messageType\":[\"urn:message:TaskResults.Contracts:ArchiveTaskResults\"]," +
                       $"\"message\":{{\"jobId\":\"archive-{_runs}-{i}\",\"taskType\":\"HD_COLOUR_MIGRATION\",\"resultUrls\":[\"{fileHost}/files/{fileSize}/{i}\"],\"resultsExpireAt\":\"{expireAt}\"}}}}";
            return new Command(id, Encoding.UTF8.GetBytes(json));
        }).ToArray();

        async Task Archive(string fileSize, int files)
        {
            var batch = Commands(fileSize, files);
            sent += files;
            var clock = Stopwatch.StartNew();
            await _publisher.PublishAllAsync("archive-task-results", batch);
            var until = TimeSpan.FromSeconds(120 + batch.Length * 0.5);
            while ((await _rabbit.MessageCountAsync(counted) ?? 0) < sent)
            {
                if (clock.Elapsed > until) throw new TimeoutException($"{await _rabbit.MessageCountAsync(counted)} of {sent} archived within {until}.");
                await Task.Delay(50);
            }
        }

        // The warm-up (not measured), as long as scenario 1's: the JIT tiers the download and upload paths up while
        // small files go through; then files of the measured size, and a pause for the last compilations to finish.
        var warmup = Stopwatch.StartNew();
        while (warmup.Elapsed < _sizes.WarmupTime) await Archive("w", 200);
        await Archive(size, 100);
        await Task.Delay(_sizes.Settle);
        var before = CpuUse.Read(service.Pid, _brokerPids);
        var startRss = service.Memory().Rss;
        var clock = Stopwatch.StartNew();
        await Archive(size, count);

        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = CpuUse.Read(service.Pid, _brokerPids) - before;
        var (end, peak) = service.Memory();
        if (size == "1" && store == "FileSystem") _archivePeak1Mb = peak;
        Complain(service);
        await _rabbit.DeleteQueuesAsync(counted);
        return (seconds, cpu, (startRss, peak, end));
    }

    /// <summary>s3rver from the checkout's .tools/npm (scripts/install-deps.sh), on a port it picks.</summary>
    private sealed class S3Rver : IAsyncDisposable
    {
        public const string Bucket = "bench";
        private readonly Process _process;

        private S3Rver(Process process, int port) => (_process, ServiceUrl) = (process, $"http://127.0.0.1:{port}");

        public string ServiceUrl { get; }

        public static async Task<S3Rver> StartAsync(string data)
        {
            var tool = Path.Combine(".tools", "npm", "node_modules", ".bin", "s3rver");
            if (!File.Exists(tool)) throw new InvalidOperationException($"{tool} is missing: run scripts/install-deps.sh");
            Directory.CreateDirectory(data);
            var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "-d", data, "-a", "127.0.0.1", "-p", "0", "--configure-bucket", Bucket, "--silent" }) start.ArgumentList.Add(argument);
            var process = Process.Start(start)!;
            var stopAt = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < stopAt)
            {
                var line = await process.StandardOutput.ReadLineAsync();
                if (line is null) break;
                var at = line.IndexOf("listening on 127.0.0.1:", StringComparison.Ordinal);
                if (at >= 0)
                {
                    // Its further output is not read: keep the pipe drained.
                    _ = process.StandardOutput.ReadToEndAsync();
                    _ = process.StandardError.ReadToEndAsync();
                    return new S3Rver(process, int.Parse(line[(at + "listening on 127.0.0.1:".Length)..].Trim(), CultureInfo.InvariantCulture));
                }
            }

            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("s3rver did not say where it listens.");
        }

        public async ValueTask DisposeAsync()
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }

    /// <summary>scripts/rabbitmq.sh of the checkout the benchmark runs from.</summary>
    private static class Scripts
    {
        public static async Task RabbitMq(params string[] args)
        {
            var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine("scripts", "rabbitmq.sh"));
            foreach (var arg in args) start.ArgumentList.Add(arg);
            using var process = Process.Start(start)!;
            var errors = process.StandardError.ReadToEndAsync();
            await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0) throw new InvalidOperationException($"scripts/rabbitmq.sh {string.Join(' ', args)} failed: {await errors}");
        }
    }

    /// <summary>The OS process id of a node started by scripts/rabbitmq.sh (its DIR/node.pid).</summary>
    private static int NodePid(string nodeDir) => int.Parse(File.ReadAllText(Path.Combine(nodeDir, "node.pid")).Trim(), CultureInfo.InvariantCulture);

    /// <summary>A broker the benchmark drives, with its own admin connection, publisher and subscriber.</summary>
    private sealed record BrokerUnderTest(string Name, string ConnectionString, Rabbit Rabbit, CommandPublisher Publisher, EventListener Listener, int[] Pids) : IAsyncDisposable
    {
        /// <summary>The 3-node cluster started by bench/run.sh in <paramref name="clusterDir"/>: the benchmark talks to its first node, the service to all three.</summary>
        public static async Task<BrokerUnderTest> StartAsync(string clusterDir)
        {
            string[] Env(string dir, string key) => File.ReadAllLines(Path.Combine(dir, "env")).Where(l => l.StartsWith(key + "=", StringComparison.Ordinal)).Select(l => l.Split('=', 2)[1]).ToArray();
            var nodes = Env(clusterDir, "RABBITMQ_CLUSTER_NODES")[0].Split(',').Select(name => Path.Combine(clusterDir, name)).ToArray();
            var uris = Env(clusterDir, "RABBITMQ_URIS")[0].Split(',').Select(u => new Uri(u)).ToArray();
            var rabbit = await Rabbit.ConnectAsync(uris[0]);
            await rabbit.DeclareTopologyAsync();
            var connectionString = $"amqp://guest:guest@{string.Join(",", uris.Select(u => $"{u.Host}:{u.Port}"))}/";
            return new BrokerUnderTest("a 3-node cluster", connectionString, rabbit, await CommandPublisher.StartAsync(rabbit), await EventListener.StartAsync(rabbit), nodes.Select(NodePid).ToArray());
        }

        public async ValueTask DisposeAsync()
        {
            await Listener.DisposeAsync();
            await Publisher.DisposeAsync();
            await Rabbit.DisposeAsync();
        }
    }

    // ---- Shared -----------------------------------------------------------------------------

    /// <summary>Our own side first: a cold Kestrel would stamp the first calls late and bunch them.</summary>
    private async Task WarmUpFakeApi()
    {
        var run = new ApiRun($"r{++_runs}", 2_000, 0, TimeSpan.Zero);
        _api.Begin(run);
        await BareHttpLoop.RunAsync(_api.BaseUrl, run.Tag, run.Jobs, DefaultLimit);
    }

    /// <summary>The service declares its queue when it starts: start it once if it never ran on this broker.</summary>
    private async Task EnsureCheckQueue()
    {
        if (await _rabbit.MessageCountAsync(Names.CheckQueue) is not null) return;
        await using var service = await StartService(DefaultLimit, Fast);
    }

    private Func<Command[], long[], Task> PublishAll(string exchange, CommandPublisher? publisher = null) =>
        (commands, at) => (publisher ?? _publisher).PublishAllAsync(exchange, commands, at);

    private Func<Command[], long[], Task> PublishAtRate(string exchange, double perSecond) =>
        (commands, at) => _publisher.PublishAtRateAsync(exchange, commands, at, perSecond);

    /// <summary>
    /// One run: <paramref name="jobs"/> new jobs the fake API answers QUEUING
    /// <paramref name="pendingChecks"/> times then PROCESS_SUCCESS, published by
    /// <paramref name="publish"/>, until the last TaskSucceeded is received.
    /// </summary>
    private async Task<Run> Drive(int jobs, int pendingChecks, TimeSpan latency, Func<Command[], long[], Task> publish, ServiceProcess? service, TimeSpan? timeout = null, BrokerUnderTest? on = null)
    {
        var tag = $"r{++_runs}";
        var commands = CommandPublisher.Build(tag, jobs);
        var api = new ApiRun(tag, jobs, pendingChecks, latency);
        var tracker = new EventTracker(tag, jobs);
        _api.Begin(api);
        var listener = on?.Listener ?? _listener;
        var pids = on?.Pids ?? _brokerPids;
        listener.Track(tracker);
        var before = CpuUse.Read(service?.Pid, pids);
        await publish(commands, tracker.PublishedAt);
        await tracker.WaitAsync(timeout ?? TimeSpan.FromSeconds(60 + jobs / 50.0));
        var cpu = CpuUse.Read(service?.Pid, pids) - before;
        listener.Track(null);
        if (tracker.Failed > 0) throw new InvalidOperationException($"{tracker.Failed} jobs failed: the service and the fake API disagree.");
        return new Run(api, tracker, cpu);
    }

    /// <summary>
    /// Batches of jobs at full speed (<paramref name="untilSteady"/>) for at least <see cref="Sizes.WarmupTime"/> and
    /// then until the JIT has settled, or two batches. On 2 cores the JIT needs some 20 seconds of load to tier up
    /// MassTransit's pipeline (seen with dotnet-counters: up to 0.7 cores of JIT in that time, then none), longer
    /// with more code on the path (the registry's): a service measured while its tiered-compilation thread still
    /// works is charged a start-up cost per check. Settled: that thread used at most
    /// <see cref="SettledJitShare"/> of the service's CPU over the last two batches (no batch starts after 4 × the warm-up time).
    /// The service's CPU per job and the JIT's share of it are logged per batch. Returns the number of jobs.
    /// </summary>
    private async Task<int> Warmup(ServiceProcess service, bool untilSteady = true, BrokerUnderTest? on = null)
    {
        var batches = new List<(double PerJob, TimeSpan Cpu, TimeSpan Jit)>();
        var clock = Stopwatch.StartNew();
        bool Settled()
        {
            var last = batches.TakeLast(2).ToList();
            return last.Sum(batch => batch.Jit.TotalMilliseconds) <= SettledJitShare * last.Sum(batch => batch.Cpu.TotalMilliseconds);
        }

        while (batches.Count < 2 || untilSteady && clock.Elapsed < _sizes.WarmupTime || untilSteady && !Settled() && clock.Elapsed < 4 * _sizes.WarmupTime)
        {
            var jitBefore = ProcStats.ThreadCpu(service.Pid, TieredCompilationThread);
            var run = await Drive(_sizes.Warmup, 0, TimeSpan.Zero, PublishAll(Names.CheckQueue, on?.Publisher), service, on: on);
            batches.Add((run.Cpu.Service.TotalMicroseconds / _sizes.Warmup, run.Cpu.Service, ProcStats.UsedSince(jitBefore, ProcStats.ThreadCpu(service.Pid, TieredCompilationThread))));
        }

        Log($"   warm-up: {batches.Count} × {_sizes.Warmup} jobs in {clock.Elapsed.TotalSeconds:0} s{(untilSteady && !Settled() ? " (the JIT had not settled)" : "")}, " +
            $"service CPU µs/job (JIT %) {string.Join(" ", batches.Select(batch => $"{batch.PerJob.ToString("N0", Culture)} ({(batch.Cpu > TimeSpan.Zero ? 100 * batch.Jit / batch.Cpu : 0):0})"))}");
        return batches.Count * _sizes.Warmup;
    }

    // The runtime's thread that compiles methods at a higher tier in the background, by its Linux name.
    private const string TieredCompilationThread = ".NET Tiered Com";
    private const double SettledJitShare = 0.02;

    private Task<ServiceProcess> StartService(int limit, Polling polling, int? maxRequestsPerSecond = null, BrokerUnderTest? on = null, string? commandQueue = null,
        IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["AILabTools__BaseUrl"] = _api.BaseUrl,
            ["AILabTools__ApiKey"] = FakeApi.ApiKey,
            ["ConnectionStrings__RabbitMq"] = on?.ConnectionString ?? _broker.ToString(),
            ["Polling__Interval"] = polling.Interval.ToString("c", CultureInfo.InvariantCulture),
            ["Polling__MaxInterval"] = polling.MaxInterval.ToString("c", CultureInfo.InvariantCulture),
            ["Polling__TransientRetryInterval"] = polling.TransientRetryInterval.ToString("c", CultureInfo.InvariantCulture),
            ["MessageBus__ConcurrentMessageLimit"] = limit.ToString(CultureInfo.InvariantCulture),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        if (commandQueue is not null) environment["MessageBus__CommandQueue"] = commandQueue;
        foreach (var (name, value) in extra ?? new Dictionary<string, string>()) environment[name] = value;
        if (_throttled)
        {
            // Issue 5's throttle: R where scenario 5 asks for it, otherwise out of the way (its range
            // ends at 10,000/s), with as many calls in flight as checks.
            environment["AILabTools__MaxRequestsPerSecond"] = (maxRequestsPerSecond ?? UnthrottledRate).ToString(CultureInfo.InvariantCulture);
            if (maxRequestsPerSecond is null) environment["AILabTools__MaxConcurrentRequests"] = limit.ToString(CultureInfo.InvariantCulture);
        }

        return ServiceProcess.StartAsync(_options.ServiceDll, environment);
    }

    /// <summary>rabbitmqctl on the benchmark's node; returns what it printed.</summary>
    private async Task<string> RabbitMqCtl(params string[] args)
    {
        var start = new ProcessStartInfo("/usr/lib/rabbitmq/bin/rabbitmqctl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-n", _nodeName }.Concat(args)) start.ArgumentList.Add(arg);
        start.Environment["HOME"] = Path.Combine(_options.BrokerDir, "home");
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', args)} failed: {await errors}");
        return output;
    }

    /// <summary>The benchmark's node seen through a virtual host of its own (created here): a second service there has its own queues.</summary>
    private async Task<BrokerUnderTest> OnVirtualHostAsync(string virtualHost)
    {
        await RabbitMqCtl("add_vhost", virtualHost);
        await RabbitMqCtl("set_permissions", "-p", virtualHost, "guest", ".*", ".*", ".*");
        var uri = new Uri(_broker, virtualHost);
        var rabbit = await Rabbit.ConnectAsync(uri);
        await rabbit.DeclareTopologyAsync();
        return new BrokerUnderTest($"virtual host {virtualHost}", uri.ToString(), rabbit, await CommandPublisher.StartAsync(rabbit), await EventListener.StartAsync(rabbit), _brokerPids);
    }

    /// <summary>The prefetch count MassTransit gave the check queue's consumer, as the broker reports it.</summary>
    private async Task<ushort?> Prefetch()
    {
        string output;
        try
        {
            output = await RabbitMqCtl("-q", "list_consumers", "queue_name", "prefetch_count");
        }
        catch (InvalidOperationException exception)
        {
            Log($"   ({exception.Message.Trim()})");
            output = "";
        }

        foreach (var line in output.Split('\n'))
        {
            var fields = line.Split('\t');
            if (fields.Length == 2 && fields[0] == Names.CheckQueue && ushort.TryParse(fields[1], out var prefetch)) return prefetch;
        }

        Log("   (could not read the consumer's prefetch count: assuming the concurrency limit)");
        return null;
    }

    /// <summary>The service logs at Warning and above only: anything it wrote is worth seeing.</summary>
    private static void Complain(ServiceProcess service)
    {
        if (service.Output.Count == 0) return;
        Log($"   the service wrote {service.Output.Count} lines, the first ones:");
        foreach (var line in service.Output.Take(5)) Log($"   | {line}");
    }

    private static void Log(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");

    private sealed record Run(ApiRun Api, EventTracker Tracker, CpuUse Cpu);

    /// <summary>The service's Polling options, and the wait queues they make it declare (docs/topology.md).</summary>
    private sealed record Polling(TimeSpan Interval, TimeSpan MaxInterval, TimeSpan TransientRetryInterval)
    {
        public IEnumerable<string> WaitQueues
        {
            get
            {
                var delays = new SortedSet<TimeSpan> { Interval };
                for (var delay = TransientRetryInterval; ; delay *= 2)
                {
                    delays.Add(delay < MaxInterval ? delay : MaxInterval);
                    if (delay >= MaxInterval) break;
                }

                return delays.Select(Names.WaitQueue);
            }
        }
    }
}
