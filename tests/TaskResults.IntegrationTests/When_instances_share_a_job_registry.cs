using MassTransit;
using TaskResults.IntegrationTests.Support;
using Xunit.Abstractions;

namespace TaskResults.IntegrationTests;

/// <summary>
/// Issue 13 on the real broker with a real Redis and two or three real service processes
/// (Registry:Store=Redis): a command sent twice makes one chain, the instances keep to one API budget,
/// an instance killed mid-run leaves no fork behind, and Redis away for a while loses nothing and
/// keeps the budget. CI runs 200 jobs and a 10 s outage;
/// TASKRESULTS_REGISTRY_JOBS=2000 TASKRESULTS_REGISTRY_OUTAGE_SECONDS=30 runs the issue's full size.
/// </summary>
public sealed class When_instances_share_a_job_registry(Broker broker, RedisServer redis, ITestOutputHelper output)
    : RealBrokerScenario(broker), IClassFixture<RedisServer>
{
    private static readonly int JobCount = int.TryParse(Environment.GetEnvironmentVariable("TASKRESULTS_REGISTRY_JOBS"), out var jobs) ? jobs : 200;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("TASKRESULTS_REGISTRY_OUTAGE_SECONDS"), out var s) ? s : 10);
    private static readonly TimeSpan AllFinishedTimeout = TimeSpan.FromSeconds(240);

    // Each spec its own keys: job ids repeat across specs.
    private readonly string _prefix = "it-" + Guid.NewGuid().ToString("N");

    private readonly List<ServiceProcess> _instances = [];

    // The API key's budget, one for all instances: larger than the service's default, so hundreds of jobs take seconds.
    private async Task<ServiceProcess> StartInstance(bool waitUntilReady = true, int perSecond = 200, int concurrent = 16)
    {
        var instance = await StartService(new Dictionary<string, string>
        {
            // Each instance its own path to the fake API, so a call says whose it was.
            ["AILabTools__BaseUrl"] = Api.BaseUrlOf($"instance-{_instances.Count + 1}"),
            ["Registry__Store"] = "Redis",
            ["ConnectionStrings__Redis"] = redis.ConnectionString,
            ["Registry__KeyPrefix"] = _prefix,
            ["AILabTools__MaxRequestsPerSecond"] = perSecond.ToString(),
            ["AILabTools__MaxConcurrentRequests"] = concurrent.ToString(),
            // The skipped deliveries' debug lines, for the report of a job that never finished.
            ["Logging__LogLevel__TaskResults.Service.Consumers.CheckTaskResultConsumer"] = "Debug",
        }, waitUntilReady);
        _instances.Add(instance);
        return instance;
    }

    [Fact]
    public async Task Should_call_the_API_for_commands_sent_twice_as_often_as_for_one_send()
    {
        var jobs = Jobs("twice", QueuingThenDone(pendingAnswers: 1));
        await StartInstance();
        await StartInstance();

        // Each command twice in a row, as a sender that retries: the copy arrives while the job's chain is live.
        await using (var publisher = new CommandPublisher(Broker.Connect)) await publisher.SendMany(jobs.SelectMany(job => (string[])[job, job]), TaskTypes.HdColourMigration);

        await AssertEveryJobSucceeded(jobs);
        await UntilNoCallsFor(TimeSpan.FromSeconds(3));
        output.WriteLine($"{jobs.Count} jobs sent twice to two instances: {Api.Requests.Count} API calls (one send needs {2 * jobs.Count}), " +
            $"{jobs.Sum(job => Listener.Events<TaskSucceeded>(job).Count)} TaskSucceeded");
        Assert.Equal(2 * jobs.Count, Api.Requests.Count);
        Assert.All(jobs, job => Assert.Single(Listener.Events<TaskSucceeded>(job)));
    }

    [Fact]
    public async Task Should_keep_three_instances_within_one_API_budget()
    {
        // A backlog drained by three instances: each alone would make 20 calls a second, three of them 60.
        const int PerSecond = 20;
        for (var i = 0; i < 3; i++) await StartInstance(perSecond: PerSecond, concurrent: 4);
        await using var publisher = new CommandPublisher(Broker.Connect);
        // A backlog meets running instances: warm them first (a fresh process's first calls wait on the JIT and new
        // connections, and spread the first second's 20 calls over most of it), then let the warm-up's places go.
        var warmUp = Jobs("budget-warm-up", QueuingThenDone(pendingAnswers: 0), count: 24);
        await publisher.SendMany(warmUp, TaskTypes.HdColourMigration);
        await AssertEveryJobSucceeded(warmUp);
        await UntilNoCallsFor(TimeSpan.FromSeconds(1.5));

        var jobs = Jobs("budget", QueuingThenDone(pendingAnswers: 0));
        // Whether this process, which serves the fake API, kept time while the calls were counted.
        await using var lag = TimerLag.Start(TimeSpan.FromMilliseconds(30));
        await publisher.SendMany(jobs, TaskTypes.HdColourMigration);

        await AssertEveryJobSucceeded(jobs);
        var backlog = jobs.ToHashSet();
        var requests = Api.Requests.Where(r => backlog.Contains(r.JobId)).OrderBy(r => r.At).ToList();
        var calls = requests.Select(r => r.At).ToList();
        // The average over the whole seconds from the backlog's first call: k disjoint windows, so never more than R if no window is.
        // The budget holds for every call, the warm-up's included.
        var seconds = (int)(calls[^1] - calls[0]).TotalSeconds;
        var (most, average) = (MostCallsInAnySecond(Api.Requests.Select(r => r.At)), calls.Count(at => at < calls[0] + TimeSpan.FromSeconds(seconds)) / (double)seconds);
        output.WriteLine($"{jobs.Count} jobs on 3 instances sharing {PerSecond} calls/s: {calls.Count} calls in {(calls[^1] - calls[0]).TotalSeconds:0.0} s, " +
            $"at most {most} in any second, {average:0.0} per second on average");
        var cycles = Enumerable.Range(PerSecond, calls.Count - PerSecond).Select(i => (calls[i] - calls[i - PerSecond]).TotalMilliseconds).Order().ToList();
        output.WriteLine($"How long a place took to come round (call i to call i+{PerSecond}), ms: p10 {cycles[cycles.Count / 10]:0} p50 {cycles[cycles.Count / 2]:0} p90 {cycles[cycles.Count * 9 / 10]:0} max {cycles[^1]:0}; the first 25 calls at ms " +
            string.Join(" ", calls.Take(25).Select(at => (at - calls[0]).TotalMilliseconds.ToString("0"))));
        foreach (var line in _instances.SelectMany(i => i.Output.Split('\n')).Where(IsWarningOrWorse).Where(line => !line.Contains("starting", StringComparison.Ordinal)).Take(20))
            output.WriteLine("  " + line);
        output.WriteLine(lag.Describe(calls[0]));
        Assert.InRange(most, 1, PerSecond);
        // Whose calls ended the worst round, for a stall to be traced to its instance.
        var worst = Enumerable.Range(PerSecond, requests.Count - PerSecond).MaxBy(i => requests[i].At - requests[i - PerSecond].At);
        output.WriteLine($"The worst round: call {worst - PerSecond} to call {worst}; calls {worst - 3} to {worst} by " +
            string.Join(", ", requests.Skip(worst - 3).Take(4).Select(r => $"{r.Instance} at ms {(r.At - calls[0]).TotalMilliseconds:0}")) +
            "; calls per instance: " + string.Join(", ", requests.CountBy(r => r.Instance ?? "").Select(c => $"{c.Key} {c.Value}")));
        // Not held back either: a place is a call and the 1.01 s after its answer, so a little under the budget at best. The
        // mean is taken over whole rounds of R calls (calls cluster where a window opens) and forgives one stall: what the
        // longest round took beyond the usual (median) one. CI once saw a round of 2.9 s against a median of 1.02 s (a plain
        // mean of 17.2); the stalls reproduced since were this process, short of pool threads, serving the fake API late
        // (tests/Directory.Build.props), as the timers' line above shows.
        // Places held back or a tail where the instances do not share what is left would lengthen many rounds, not one.
        var rounds = (calls.Count - 1) / PerSecond * PerSecond;
        var stall = TimeSpan.FromMilliseconds(cycles[^1] - cycles[cycles.Count / 2]);
        var mean = rounds / (calls[rounds] - calls[0] - stall).TotalSeconds;
        output.WriteLine($"Over {rounds / PerSecond} whole rounds, forgiving the worst stall ({stall.TotalMilliseconds:0} ms): {mean:0.0} calls per second");
        Assert.True(mean >= 0.9 * PerSecond, $"{mean:0.0} calls per second, fewer than 0.9 of the budget.");
    }

    [Fact]
    public async Task Should_leave_no_fork_when_an_instance_is_killed_mid_run_again_and_again()
    {
        // Slow answers, so kills meet checks in flight and rescheduled commands not yet acknowledged.
        var jobs = Jobs("killed", QueuingThenDone(pendingAnswers: 4, delay: TimeSpan.FromMilliseconds(150)));
        var minimumCalls = 5 * jobs.Count;
        var instances = new Queue<ServiceProcess>([await StartInstance(), await StartInstance(), await StartInstance()]);
        await using (var publisher = new CommandPublisher(Broker.Connect)) await publisher.SendMany(jobs, TaskTypes.HdColourMigration);

        // kill -9 the oldest instance at 15 %, 30 % and 45 % of the calls; a new one starts at once each time.
        for (var kill = 1; kill <= 3; kill++)
        {
            await WaitUntil(() => Api.Requests.Count >= kill * minimumCalls * 15 / 100, TimeSpan.FromSeconds(120), $"{kill * 15} % of the calls");
            await instances.Dequeue().Kill();
            instances.Enqueue(await StartInstance(waitUntilReady: false));
        }

        var finishedAtLastKill = jobs.Count(job => Listener.Events<TaskSucceeded>(job).Count > 0);
        await AssertEveryJobSucceeded(jobs);
        await UntilNoCallsFor(TimeSpan.FromSeconds(3));

        // A fork is a second chain: it goes on calling after its job has succeeded. With one chain a
        // delivery after the end is answered from the registry, without a call.
        var forks = jobs.Where(job => Api.Requests.Any(r => r.JobId == job && r.At > FirstSuccess(job))).ToList();
        output.WriteLine($"{jobs.Count} jobs, 3 kills -9 ({finishedAtLastKill} jobs finished at the last): {Api.Requests.Count} API calls (at least {minimumCalls}), " +
            $"{forks.Count} forks" + (forks.Count > 0 ? $": {string.Join(", ", forks.Take(10))}" : ""));
        Assert.True(finishedAtLastKill < jobs.Count, "Every job had finished before the last kill: it tested nothing.");
        Assert.Empty(forks);
    }

    [Fact]
    public async Task Should_lose_nothing_while_Redis_is_away_and_keep_one_chain_once_it_is_back()
    {
        // Two instances, one budget; while Redis is away each keeps to half of it (Registry:FallbackShare).
        const int PerSecond = 40;
        var jobs = Jobs("outage", QueuingThenDone(pendingAnswers: 3));
        var first = await StartInstance(perSecond: PerSecond);
        await StartInstance(perSecond: PerSecond);
        await using (var publisher = new CommandPublisher(Broker.Connect)) await publisher.SendMany(jobs, TaskTypes.HdColourMigration);
        await WaitUntil(() => Api.Requests.Count >= jobs.Count, TimeSpan.FromSeconds(120), "every job checked once");

        // Away (calls time out), then back without its data, as after a restart without persistence.
        await redis.PauseAsync();
        var awayAt = DateTimeOffset.UtcNow;
        try
        {
            await WaitUntilAsync(async () => await Health(first) == "Degraded", TimeSpan.FromSeconds(60), "/health says Degraded");
            Assert.True(await first.IsReady(), "Not ready while Redis is away, though checks go on.");
            await Task.Delay(Outage);
        }
        finally
        {
            await redis.ResumeAsync(forgetEverything: true);
        }

        var backAt = DateTimeOffset.UtcNow;

        await AssertEveryJobSucceeded(jobs);
        await WaitUntilAsync(async () => await Health(first) == "Healthy", TimeSpan.FromSeconds(60), "/health says Healthy again");
        await UntilNoCallsFor(TimeSpan.FromSeconds(3));
        // The budget holds throughout, but for the handover when Redis is back (without the places it held): an instance that has
        // not noticed yet still calls on its share for a moment (README, "One budget per key").
        var calls = Api.Requests.Select(r => r.At).Order().ToList();
        var handover = backAt + TimeSpan.FromSeconds(3);
        var (kept, duringHandover) = (MostCallsInAnySecond(calls.Where(at => at < backAt || at >= handover)), MostCallsInAnySecond(calls.Where(at => at >= backAt && at < handover)));
        output.WriteLine($"{jobs.Count} jobs, Redis away {Outage.TotalSeconds:0} s: {Api.Requests.Count} API calls (at least {4 * jobs.Count}); " +
            $"at most {kept} calls in any second (budget {PerSecond}), {duringHandover} in the 3 s after Redis came back");
        Assert.InRange(kept, 1, PerSecond);
        // …and in the handover by no more than the one instance's share (FallbackShare 0.5) still in use.
        Assert.InRange(duringHandover, 0, PerSecond + PerSecond / 2);
        // Hundreds of calls failed; the outage is said once by the registry and once by the budget (a reconnect right
        // after the resume may count as a second).
        foreach (var what in (string[])["The job registry (Redis) cannot be reached", "The shared API budget (Redis) cannot be reached"])
            Assert.InRange(first.Output.Split('\n').Count(line => line.Contains(what, StringComparison.Ordinal)), 1, 2);
    }

    // Calls as the API saw them arrive: each arrived while its place was held, so no second may see more than the budget.
    private static int MostCallsInAnySecond(IEnumerable<DateTimeOffset> arrivals)
    {
        var sorted = arrivals.Order().ToList();
        int most = 0, first = 0;
        for (var last = 0; last < sorted.Count; last++)
        {
            while (sorted[last] - sorted[first] >= TimeSpan.FromSeconds(1)) first++;
            most = Math.Max(most, last - first + 1);
        }

        return most;
    }

    private List<string> Jobs(string name, Func<string, FakeResponse[]> script, int? count = null)
    {
        var jobs = Enumerable.Range(0, count ?? JobCount).Select(i => $"{name}-{i:0000}").ToList();
        foreach (var job in jobs) Api.Script(job, script(job));
        return jobs;
    }

    private static Func<string, FakeResponse[]> QueuingThenDone(int pendingAnswers, TimeSpan delay = default) => job =>
        [.. Enumerable.Repeat(FakeResponse.Status("QUEUING") with { Delay = delay }, pendingAnswers),
            FakeResponse.Status("PROCESS_SUCCESS", imageList: [$"https://files.example/{job}.png"]) with { Delay = delay }];

    private DateTimeOffset FirstSuccess(string job) => Listener.Events<TaskSucceeded>(job).Min(e => e.SentTime ?? DateTime.MaxValue);

    private static async Task<string> Health(ServiceProcess service)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            return await http.GetStringAsync($"{service.HealthUrl}/health");
        }
        catch (HttpRequestException exception) when (exception.StatusCode is not null)
        {
            return exception.StatusCode.ToString()!;
        }
    }

    private async Task AssertEveryJobSucceeded(IReadOnlyList<string> jobs)
    {
        var lost = await Listener.Missing<TaskSucceeded>(jobs, AllFinishedTimeout);

        foreach (var job in lost.Take(5))
        {
            output.WriteLine($"{job}: {Api.CallsFor(job)} calls at {string.Join(", ", Api.Requests.Where(r => r.JobId == job).Select(r => r.At.ToString("HH:mm:ss.fff")))}; " +
                $"{Listener.Events<TaskPending>(job).Count} TaskPending (attempts {string.Join(", ", Listener.Events<TaskPending>(job).Select(e => e.Message.Attempt))})");
            foreach (var line in _instances.SelectMany(i => i.Output.Split('\n')).Where(line => line.Contains(job, StringComparison.Ordinal))) output.WriteLine("  " + line);
            output.WriteLine("  registry: " + await redis.CliAsync("HGET", $"{_prefix}:job:{TaskTypes.HdColourMigration}:{job}", "r"));
        }

        if (lost.Count > 0)
        {
            // Where the lost jobs' commands may be: the queues, and what the instances (killed ones too) said beyond information.
            output.WriteLine(await Broker.Ctl("list_queues", "name", "messages_ready", "messages_unacknowledged"));
            foreach (var line in _instances.SelectMany(i => i.Output.Split('\n')).Where(IsWarningOrWorse).Take(40)) output.WriteLine("  " + line);
        }

        Assert.True(lost.Count == 0, $"{lost.Count} of {jobs.Count} jobs never succeeded: {string.Join(", ", lost.Take(10))}");
        Assert.DoesNotContain(Listener.All, e => e.TryGetMessage<TaskFailed>(out _));
    }

    private static bool IsWarningOrWorse(string line) =>
        line.Contains("warn", StringComparison.OrdinalIgnoreCase) || line.Contains("fail", StringComparison.OrdinalIgnoreCase) || line.Contains("error", StringComparison.OrdinalIgnoreCase);

    // Quiet: no API call for this long (a fork or a duplicate chain would keep calling).
    private async Task UntilNoCallsFor(TimeSpan quiet)
    {
        var stopAt = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var count = Api.Requests.Count;
        var since = DateTime.UtcNow;
        while (DateTime.UtcNow - since < quiet)
        {
            Assert.True(DateTime.UtcNow < stopAt, "The API was still being called a minute after every job had succeeded.");
            await Task.Delay(100);
            if (Api.Requests.Count != count) (count, since) = (Api.Requests.Count, DateTime.UtcNow);
        }
    }

    private static Task WaitUntil(Func<bool> condition, TimeSpan timeout, string what) => WaitUntilAsync(() => Task.FromResult(condition()), timeout, what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var stopAt = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > stopAt) throw new TimeoutException($"Not within {timeout}: {what}");
            await Task.Delay(50);
        }
    }
}
