using System.Text.RegularExpressions;
using MassTransit;
using TaskResults.IntegrationTests.Support;
using Xunit.Abstractions;

namespace TaskResults.IntegrationTests;

/// <summary>
/// SIGTERM, as <c>docker stop</c> or Kubernetes send it, to the real process while checks are in
/// flight: it takes no new checks, finishes (or hands back) the ones it holds within
/// <c>MessageBus:StopTimeout</c>, exits 0, and a second instance finishes every job: none is lost.
/// </summary>
public sealed partial class When_the_service_is_stopped_mid_burst(Broker broker, ITestOutputHelper output) : RealBrokerScenario(broker)
{
    private const string ErrorQueue = "check-task-result_error";

    // What the process may take beyond its StopTimeout to exit on a loaded machine: the host's other services, the connection's close.
    private static readonly TimeSpan ExitMargin = TimeSpan.FromSeconds(8);

    // All jobs of a spec finished by a second instance, on a loaded machine.
    private static readonly TimeSpan AllFinishedTimeout = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task Should_finish_the_checks_in_flight_and_lose_no_job()
    {
        // 200 jobs, each call answered in 300–800 ms: half pending once then done, half done at the first check.
        var jobs = Enumerable.Range(0, 200).Select(i => $"burst-{i:000}").ToList();
        for (var i = 0; i < jobs.Count; i++)
        {
            var delay = TimeSpan.FromMilliseconds(300 + i * 37 % 500);
            var done = FakeResponse.Status("PROCESS_SUCCESS", imageList: [$"https://files.example/{jobs[i]}.png"]) with { Delay = delay };
            if (i % 2 == 0) Api.Script(jobs[i], FakeResponse.Status("PROCESSING") with { Delay = delay }, done);
            else Api.Script(jobs[i], done);
        }

        var stopTimeout = TimeSpan.FromSeconds(15);
        var first = await StartService(new Dictionary<string, string> { ["MessageBus__StopTimeout"] = stopTimeout.ToString() });
        await using (var publisher = new CommandPublisher(Broker.Connect)) await publisher.SendMany(jobs, TaskTypes.HdColourMigration);

        // Mid-burst: some jobs done, calls under way, most jobs still to check.
        await WaitUntil(() => Listener.All.Count(IsTerminal) >= 20, TimeSpan.FromSeconds(60), "20 jobs finished");
        var callsBefore = Api.Requests.Count;
        await WaitUntil(() => Api.Requests.Count > callsBefore, TimeSpan.FromSeconds(10), "another API call began");
        var took = await first.Terminate(stopTimeout + ExitMargin);
        var finishedByFirst = Listener.All.Count(IsTerminal);

        output.WriteLine($"The first instance exited {took.TotalSeconds:0.0} s after SIGTERM with {first.ExitCode}; {finishedByFirst} of {jobs.Count} jobs finished by then");
        output.WriteLine(StopLines(first));
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains("taking no new checks", first.Output);
        Assert.True(InFlightAtStop(first) > 0, $"Nothing was in flight at SIGTERM:\n{first.Output}");
        Assert.Contains("every check in flight finished", first.Output);
        Assert.True(finishedByFirst < jobs.Count, "The burst was over before SIGTERM: nothing was tested");

        await StartService();
        await AssertEveryJobSucceeded(jobs);
    }

    [Fact]
    public async Task Should_hand_back_the_checks_it_cannot_finish_within_the_stop_timeout()
    {
        // Every call takes 20 s (within the client's 30 s timeout): nothing finishes before the stop is over.
        var jobs = Enumerable.Range(0, 40).Select(i => $"slow-{i:00}").ToList();
        var slow = FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/late.png"]) with { Delay = TimeSpan.FromSeconds(20) };
        foreach (var job in jobs) Api.Script(job, slow);

        var stopTimeout = TimeSpan.FromSeconds(1);
        var first = await StartService(new Dictionary<string, string> { ["MessageBus__StopTimeout"] = stopTimeout.ToString() });
        await using (var publisher = new CommandPublisher(Broker.Connect)) await publisher.SendMany(jobs, TaskTypes.HdColourMigration);

        // Every call slot of the instance busy (AILabTools:MaxConcurrentRequests, 8), more checks waiting for one.
        await WaitUntil(() => Api.Requests.Count >= 8, TimeSpan.FromSeconds(60), "8 API calls under way");
        var calledByFirst = Api.Requests.Select(r => r.JobId).ToHashSet();
        var took = await first.Terminate(stopTimeout + ExitMargin);

        output.WriteLine($"The first instance exited {took.TotalSeconds:0.0} s after SIGTERM (StopTimeout {stopTimeout.TotalSeconds:0} s, calls take 20 s) with {first.ExitCode}");
        output.WriteLine(StopLines(first));
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains("taking no new checks", first.Output);
        Assert.Contains("abandoned unacknowledged", first.Output);
        Assert.DoesNotContain(Listener.All, IsTerminal);

        // The API answers quickly again: the abandoned checks come back from the broker and are done.
        foreach (var job in jobs) Api.Script(job, FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/late.png"]));
        await StartService();
        await AssertEveryJobSucceeded(jobs);
        Assert.All(calledByFirst, job => Assert.True(Api.CallsFor(job) >= 2, $"{job} was not checked again after its check was abandoned"));
    }

    private async Task AssertEveryJobSucceeded(IReadOnlyList<string> jobs)
    {
        var lost = await Listener.Missing<TaskSucceeded>(jobs, AllFinishedTimeout);

        // At-least-once: a check abandoned after its events went out is repeated. Counted, never missing.
        var duplicates = jobs.Select(job => (Job: job, Count: Listener.Events<TaskSucceeded>(job).Count)).Where(j => j.Count > 1).ToList();
        output.WriteLine($"{jobs.Count} jobs: {jobs.Count - lost.Count} succeeded, {lost.Count} lost, {duplicates.Count} with duplicate TaskSucceeded" +
            (duplicates.Count > 0 ? $": {string.Join(", ", duplicates.Select(d => $"{d.Job} x{d.Count}"))}" : ""));
        Assert.Empty(lost);
        Assert.DoesNotContain(Listener.All, e => e.TryGetMessage<TaskFailed>(out _));
        Assert.True(await Broker.MessageCount(ErrorQueue) is null or 0, $"Commands went to {ErrorQueue}");
    }

    // What the instance said from SIGTERM on: its stop lines, and how many jobs it finished meanwhile.
    private static string StopLines(ServiceProcess service)
    {
        var afterSigterm = service.Output.Split('\n').SkipWhile(line => !line.Contains("taking no new checks", StringComparison.Ordinal)).ToList();
        var stopLines = afterSigterm.Where(line => line.Contains("Stopp", StringComparison.Ordinal) || line.Contains("stop canceled", StringComparison.Ordinal));
        return string.Join('\n', stopLines.Append($"{afterSigterm.Count(line => line.Contains(" finished: ", StringComparison.Ordinal))} jobs finished after SIGTERM"));
    }

    private static bool IsTerminal(ConsumeContext context) =>
        context.TryGetMessage<TaskSucceeded>(out _) || context.TryGetMessage<TaskFailed>(out _);

    private static int InFlightAtStop(ServiceProcess service) =>
        StoppingLine().Match(service.Output) is { Success: true } match ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;

    [GeneratedRegex(@"taking no new checks from \S+; (\d+) checks in flight")]
    private static partial Regex StoppingLine();

    private static async Task WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var stopAt = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > stopAt) throw new TimeoutException($"Not within {timeout}: {what}");
            await Task.Delay(20);
        }
    }
}
