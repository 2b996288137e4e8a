using System.Collections.Concurrent;
using System.Diagnostics;

namespace TaskResults.IntegrationTests.Support;

/// <summary>
/// A node of a 3-node cluster lost for a while under load: service instances on the cluster, a
/// thousand jobs pending, one node killed with kill -9, commands sent during the outage, the node
/// back, then every job finishing. Records each instance's readiness and API calls (the fake API
/// tells the instances apart by their base URL) and reports what a user would ask about.
/// Sizes come from the environment, so CI can run it smaller (README, "Tests").
/// </summary>
[Collection(ClusterCollection.Name)]
public abstract class ClusterScenario(Cluster cluster) : IAsyncLifetime
{
    /// <summary>Jobs pending when the node goes: TASKRESULTS_CLUSTER_JOBS, 1,000 by default.</summary>
    public static readonly int Jobs = Setting("TASKRESULTS_CLUSTER_JOBS", 1000);

    /// <summary>How long the node stays down: TASKRESULTS_CLUSTER_OUTAGE_SECONDS, 30 by default.</summary>
    public static readonly TimeSpan Outage = TimeSpan.FromSeconds(Setting("TASKRESULTS_CLUSTER_OUTAGE_SECONDS", 30));

    /// <summary>Commands sent while the node is down.</summary>
    public const int CommandsDuringOutage = 40;

    /// <summary>The wait between a job's checks: with 1,000 jobs, 200 checks per second in all.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private static readonly string[] InstanceNames = ["a", "b"];
    private readonly List<ServiceProcess> _services = [];

    protected Cluster Cluster { get; } = cluster;

    protected FakeAILabToolsApi Api { get; private set; } = null!;

    protected EventListener Listener { get; private set; } = null!;

    /// <summary>The service instances, by the name the fake API knows them by.</summary>
    protected Dictionary<string, ServiceProcess> Instances { get; } = [];

    public async Task InitializeAsync()
    {
        await using (var connection = await Cluster.Connect())
        {
            await Broker.PurgeServiceQueues(connection, await Cluster.Ctl(null, "list_queues", "name"));
        }

        Api = await FakeAILabToolsApi.StartAsync();
        Api.Unscripted = FakeResponse.Status("PROCESSING");
        Listener = await EventListener.StartAsync(Cluster);
        foreach (var name in InstanceNames)
        {
            var service = await ServiceProcess.StartAsync(new Dictionary<string, string>
            {
                ["AILabTools__BaseUrl"] = Api.BaseUrlOf(name),
                ["AILabTools__ApiKey"] = FakeAILabToolsApi.ApiKey,
                ["AILabTools__MaxRequestsPerSecond"] = "10000",
                ["AILabTools__MaxConcurrentRequests"] = "32",
                ["MessageBus__ConcurrentMessageLimit"] = "32",
                ["ConnectionStrings__RabbitMq"] = Cluster.ConnectionString,
                ["Polling__Interval"] = Interval.ToString(),
                ["Polling__MaxInterval"] = "00:00:10",
                ["Polling__TransientRetryInterval"] = "00:00:01",
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__TaskResults.Service.Broker"] = "Information",
                ["Logging__LogLevel__MassTransit"] = Environment.GetEnvironmentVariable("TASKRESULTS_CLUSTER_MASSTRANSIT_LOG") ?? "Warning",
            }, waitUntilReady: false);
            _services.Add(service);
            Instances[name] = service;
        }

        foreach (var service in _services) await service.WaitUntilReady(TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        foreach (var service in _services) await service.DisposeAsync();
        await Listener.DisposeAsync();
        await Api.DisposeAsync();
        // A node of a failed scenario may still be down: the next one needs all three.
        foreach (var node in Cluster.Nodes) await RabbitMqScripts.Run("resume", node.Directory);
    }

    /// <summary>
    /// Runs the whole scenario against the node <paramref name="pickNode"/> chooses once the jobs are
    /// pending; returns the figures. Asserts nothing itself: the specs do.
    /// </summary>
    protected async Task<OutageReport> LoseANode(string scenario, Func<Task<ClusterNode>> pickNode)
    {
        var jobs = Enumerable.Range(1, Jobs).Select(i => $"{scenario}-{i}").ToList();
        await using var publisher = new CommandPublisher(() => Cluster.Connect());
        await publisher.SendMany(jobs, TaskTypes.HdColourMigration);
        await Until(() => Api.Requests.Select(r => r.JobId).Where(j => j.StartsWith(scenario + "-", StringComparison.Ordinal)).Distinct().Count() >= Jobs,
            TimeSpan.FromSeconds(120), $"not all {Jobs} jobs were checked once");

        using var sampling = new CancellationTokenSource();
        var readiness = Instances.ToDictionary(i => i.Key, _ => new ConcurrentQueue<(DateTimeOffset At, bool Ready)>());
        var sampler = Task.WhenAll(Instances.Select(i => SampleReadiness(i.Value, readiness[i.Key], sampling.Token)));

        var node = await pickNode();
        var connectedBefore = await InstancesOn(node);
        var killedAt = DateTimeOffset.UtcNow;
        await Cluster.Kill(node);

        // Spread over the outage, as senders would keep sending; the node comes back on time whatever they meet.
        var duringOutage = Enumerable.Range(1, CommandsDuringOutage).Select(i => $"{scenario}-outage-{i}").ToList();
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < duringOutage.Count; i++)
            {
                var due = killedAt + Outage * (i + 1) / (CommandsDuringOutage + 1) - DateTimeOffset.UtcNow;
                if (due > TimeSpan.Zero) await Task.Delay(due);
                await publisher.Send(duringOutage[i], TaskTypes.HdColourMigration, patience: Outage);
            }
        });

        var left = killedAt + Outage - DateTimeOffset.UtcNow;
        if (left > TimeSpan.Zero) await Task.Delay(left);
        await Cluster.Resume(node);
        var backAt = DateTimeOffset.UtcNow;
        await sending;

        // A little while with all nodes back, then every job may finish.
        await Task.Delay(TimeSpan.FromSeconds(10));
        var releasedAt = DateTimeOffset.UtcNow;
        Api.Unscripted = FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/done.png"]);
        var all = jobs.Concat(duringOutage).ToList();
        var finished = await FinishedJobs(all, TimeSpan.FromSeconds(180));
        await sampling.CancelAsync();
        await sampler;

        // What each instance said, kept beside the test binaries for reading after a run, passed or failed.
        var logs = Path.Combine(AppContext.BaseDirectory, "cluster-logs");
        Directory.CreateDirectory(logs);
        foreach (var (name, service) in Instances)
            await File.WriteAllTextAsync(Path.Combine(logs, $"{Cluster.Version}-{scenario}-{name}.log"), service.Output);

        var terminal = all.ToDictionary(job => job, job => Listener.Events<TaskSucceeded>(job).Count + Listener.Events<TaskFailed>(job).Count);
        var everyCall = Api.Requests.ToList();
        var calls = everyCall.Where(r => r.At >= killedAt - TimeSpan.FromSeconds(5) && r.At <= releasedAt).ToList();
        return new OutageReport(
            Scenario: scenario,
            Version: Cluster.Version,
            Node: node.Name,
            InstancesOnNode: connectedBefore,
            Jobs: all.Count,
            Lost: all.Count(job => terminal[job] == 0),
            Duplicates: terminal.Values.Sum(count => Math.Max(0, count - 1)),
            CommandsDuringOutage: duringOutage.Count,
            OutageCommandsLost: duringOutage.Count(job => terminal[job] == 0),
            LongestGapInChecks: LongestGap(calls.Select(c => c.At), killedAt - TimeSpan.FromSeconds(5), releasedAt),
            LongestGapPerInstance: Instances.Keys.ToDictionary(name => name,
                name => LongestGap(calls.Where(c => c.Instance == name).Select(c => c.At), killedAt - TimeSpan.FromSeconds(5), releasedAt)),
            NotReadyPerInstance: readiness.ToDictionary(r => r.Key, r => NotReadyTime(r.Value)),
            ReadyWhileNotConsuming: Instances.Keys.ToDictionary(name => name,
                name => ReadyWhileNotConsuming(readiness[name], everyCall.Where(c => c.Instance == name).Select(c => c.At).Order().ToList(), everyCall.Select(c => c.At).Order().ToList())),
            KilledAt: killedAt,
            BackAt: backAt,
            Finished: finished,
            ServiceOutput: string.Join("\n", Instances.Select(i => $"--- instance {i.Key}:\n{i.Value.Output}")));
    }

    /// <summary>The names of the instances whose bus connection is on <paramref name="node"/>.</summary>
    protected async Task<string[]> InstancesOn(ClusterNode node)
    {
        var on = new List<string>();
        foreach (var (name, service) in Instances)
        {
            if (await Cluster.NodeOfConnection(service.BusConnectionName) == node) on.Add(name);
        }

        return on.ToArray();
    }

    private async Task<int> FinishedJobs(IReadOnlyList<string> jobs, TimeSpan timeout)
    {
        var stopAt = DateTime.UtcNow + timeout;
        int Finished() => jobs.Count(job => Listener.Events<TaskSucceeded>(job).Count + Listener.Events<TaskFailed>(job).Count > 0);
        while (Finished() < jobs.Count && DateTime.UtcNow < stopAt) await Task.Delay(500);
        // Late duplicates (a check in flight at the kill, repeated) arrive within a few intervals.
        await Task.Delay(Interval * 2);
        return Finished();
    }

    private static async Task SampleReadiness(ServiceProcess service, ConcurrentQueue<(DateTimeOffset, bool)> samples, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            samples.Enqueue((DateTimeOffset.UtcNow, await service.IsReady()));
            try { await Task.Delay(250, stop); }
            catch (OperationCanceledException) { }
        }
    }

    private static TimeSpan LongestGap(IEnumerable<DateTimeOffset> times, DateTimeOffset from, DateTimeOffset to)
    {
        var points = times.Where(t => t >= from && t <= to).Append(from).Append(to).Order().ToList();
        return points.Zip(points.Skip(1), (a, b) => b - a).Max();
    }

    private static TimeSpan NotReadyTime(IEnumerable<(DateTimeOffset At, bool Ready)> samples)
    {
        var list = samples.ToList();
        return list.Zip(list.Skip(1), (a, b) => a.Ready ? TimeSpan.Zero : b.At - a.At).Aggregate(TimeSpan.Zero, (sum, t) => sum + t);
    }

    /// <summary>
    /// Time this instance answered "ready" although it had made no API call for 10 s while the other
    /// instances kept calling (so commands were there to consume): a consumer that is gone or stuck
    /// and says nothing. The first 3 s of such a stretch are the instance's time to notice.
    /// </summary>
    private static TimeSpan ReadyWhileNotConsuming(IEnumerable<(DateTimeOffset At, bool Ready)> samples, List<DateTimeOffset> own, List<DateTimeOffset> everyone)
    {
        var notice = TimeSpan.FromSeconds(3);
        var quiet = TimeSpan.FromSeconds(10);
        var wrong = TimeSpan.Zero;
        foreach (var (at, ready) in samples)
        {
            if (!ready) continue;
            var lastOwn = own.LastOrDefault(t => t <= at);
            var silentFor = lastOwn == default ? TimeSpan.MaxValue : at - lastOwn;
            var othersCalled = everyone.Any(t => t > at - quiet + notice && t <= at);
            if (silentFor >= quiet && othersCalled) wrong += TimeSpan.FromMilliseconds(250);
        }

        return wrong;
    }

    protected static async Task Until(Func<bool> condition, TimeSpan timeout, string what)
    {
        var stopAt = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > stopAt) throw new TimeoutException($"Within {timeout}: {what}.");
            await Task.Delay(250);
        }
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var value) && value > 0 ? value : fallback;
}

/// <summary>What one lost node cost, as the spec output reports it.</summary>
public sealed record OutageReport(
    string Scenario,
    string Version,
    string Node,
    string[] InstancesOnNode,
    int Jobs,
    int Lost,
    int Duplicates,
    int CommandsDuringOutage,
    int OutageCommandsLost,
    TimeSpan LongestGapInChecks,
    Dictionary<string, TimeSpan> LongestGapPerInstance,
    Dictionary<string, TimeSpan> NotReadyPerInstance,
    Dictionary<string, TimeSpan> ReadyWhileNotConsuming,
    DateTimeOffset KilledAt,
    DateTimeOffset BackAt,
    int Finished,
    string ServiceOutput)
{
    public override string ToString() =>
        $"RabbitMQ {Version}, {Scenario}: node {Node} (instances on it: {(InstancesOnNode.Length == 0 ? "none" : string.Join(",", InstancesOnNode))}) down {(BackAt - KilledAt).TotalSeconds:0} s; " +
        $"{Jobs} jobs ({CommandsDuringOutage} sent during the outage): {Finished} finished, lost {Lost} (outage commands lost {OutageCommandsLost}), duplicate terminal events {Duplicates}; " +
        $"longest stretch without checks {LongestGapInChecks.TotalSeconds:0.0} s; per instance: " +
        string.Join(", ", LongestGapPerInstance.Select(g => $"{g.Key} longest gap {g.Value.TotalSeconds:0.0} s, not ready {NotReadyPerInstance[g.Key].TotalSeconds:0.0} s, ready while not consuming {ReadyWhileNotConsuming[g.Key].TotalSeconds:0.0} s"));
}
