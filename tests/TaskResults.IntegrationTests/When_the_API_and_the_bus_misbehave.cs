using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using TaskResults.IntegrationTests.Support;
using Xunit.Abstractions;

namespace TaskResults.IntegrationTests;

/// <summary>
/// Fault injection against the real broker and the real service: a scripted API on 127.0.0.1 that
/// fails in every way the facts page lists, and a bus that carries garbage. Every valid job must reach
/// exactly its expected terminal event; the test output reports jobs and API calls against the minimum.
/// </summary>
public sealed class When_the_API_and_the_bus_misbehave(Broker broker, ITestOutputHelper output) : RealBrokerScenario(broker)
{
    private static readonly Dictionary<string, string> Faulty = new()
    {
        ["AILabTools__Timeout"] = "00:00:00.500",
        ["AILabTools__BreakAfterFailures"] = "5",
        ["AILabTools__BreakDuration"] = "00:00:02",
    };

    private static FakeResponse Success(string job) => FakeResponse.Status("PROCESS_SUCCESS", imageList: [$"https://files.example/{job}.png"]);

    [Fact]
    public async Task Should_finish_every_job_through_faults_of_every_kind()
    {
        var kinds = new Dictionary<string, Func<string, FakeResponse[]>>
        {
            ["burst"] = job => [FakeResponse.Error(503, "AI_SERVICE_ERROR", "Busy"), FakeResponse.Error(500, "SERVICE_INTERNAL_ERROR", "Oops"), FakeResponse.Raw(502, "<html>Bad gateway</html>"), Success(job)],
            ["slow"] = job => [FakeResponse.Status("PROCESSING") with { Delay = TimeSpan.FromSeconds(2) }, Success(job)],
            ["reset"] = job => [new FakeResponse(200, "") { Abort = true }, Success(job)],
            ["html"] = job => [FakeResponse.Raw(502, "<html><body>nginx</body></html>"), FakeResponse.Raw(200, ""), Success(job)],
            ["limited"] = job => [FakeResponse.Error(429, "EXCEEDING_LIMITS", "Too many requests").WithHeader("Retry-After", "1"), Success(job)],
            ["pending"] = job => [FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESSING"), Success(job)],
            ["credits"] = _ => [FakeResponse.Error(429, "ERROR_NOT_ENOUGH_CREDITS", "Not enough credits")],
        };
        var jobs = kinds.SelectMany(kind => Enumerable.Range(1, 4).Select(i => (Job: $"{kind.Key}-{i}", Kind: kind.Key, Script: kind.Value($"{kind.Key}-{i}")))).ToList();
        foreach (var (job, _, script) in jobs) Api.Script(job, script);
        var service = await StartService(Faulty);

        foreach (var (job, _, _) in jobs) await Listener.Send(new CheckTaskResult { JobId = job, TaskType = TaskTypes.HdColourMigration });

        foreach (var (job, kind, _) in jobs)
        {
            if (kind == "credits")
            {
                var failed = (await Listener.WaitFor<TaskFailed>(job, EventTimeout)).Message;
                Assert.Equal((FailureReasons.ApiError, "ERROR_NOT_ENOUGH_CREDITS"), (failed.Reason, failed.ErrorCode));
            }
            else
            {
                Assert.Equal([$"https://files.example/{job}.png"], (await Listener.WaitFor<TaskSucceeded>(job, EventTimeout)).Message.ResultUrls);
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(2)); // a duplicate terminal event, were there one, would arrive by now
        foreach (var (job, _, _) in jobs)
        {
            Assert.Equal(1, Listener.Events<TaskSucceeded>(job).Count + Listener.Events<TaskFailed>(job).Count);
        }

        var minimum = jobs.Sum(j => j.Script.Length);
        output.WriteLine($"faults: {jobs.Count} jobs, {jobs.Count} finished, 0 lost; API calls {Api.Requests.Count} (minimum {minimum})");
        foreach (var kind in kinds.Keys)
        {
            output.WriteLine($"  {kind}: {Api.Requests.Count(r => r.JobId.StartsWith(kind + "-", StringComparison.Ordinal))} calls, minimum {jobs.Where(j => j.Kind == kind).Sum(j => j.Script.Length)}");
        }

        // The key appears nowhere: not in the service's logs, not in any event.
        Assert.DoesNotContain(FakeAILabToolsApi.ApiKey, service.Output, StringComparison.Ordinal);
        Assert.Contains("ApiKey=***", service.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeAILabToolsApi.ApiKey, Listener.AllEventsAsJson(), StringComparison.Ordinal);
        Assert.Equal(1, service.Output.Split('\n').Count(line => line.StartsWith("crit:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Should_pause_calls_during_an_outage_and_fail_no_job_for_it()
    {
        var jobs = Enumerable.Range(1, 10).Select(i => $"outage-{i}").ToList();
        foreach (var job in jobs) Api.Script(job, Success(job));
        Api.Outage = FakeResponse.Error(503, "ERROR_RESOURCE_UNAVAILABLE", "Down for maintenance");
        await StartService(Faulty);

        foreach (var job in jobs) await Listener.Send(new CheckTaskResult { JobId = job, TaskType = TaskTypes.GenerateCartoonizedImage });
        // An outage of minutes, compressed: 8 s, four times the break.
        await Task.Delay(TimeSpan.FromSeconds(8));
        var callsDuringOutage = Api.Requests.Count;
        Api.Outage = null;

        foreach (var job in jobs) await Listener.WaitFor<TaskSucceeded>(job, EventTimeout);
        Assert.Empty(jobs.SelectMany(job => Listener.Events<TaskFailed>(job)));

        // Without the breaker: 10 jobs × 3 tries per check, a check every 1-4 s, for 8 s (~100 calls).
        // With it (measured: 33): the checks already out when it opens, each with its quick retries (a
        // check counts once), then one single-call test per 2 s break. The bound leaves room for a
        // loaded machine, where a rescheduled check may come back before the fifth failure opens it.
        output.WriteLine($"outage: {jobs.Count} jobs, 0 lost; {callsDuringOutage} calls during the 8 s outage, {Api.Requests.Count} in all (minimum {jobs.Count})");
        Assert.InRange(callsDuringOutage, 5, 2 * jobs.Count * 3);
    }

    [Fact]
    public async Task Should_sort_a_flood_of_malformed_messages_from_the_valid_ones()
    {
        var valid = Enumerable.Range(1, 20).Select(i => $"valid-{i}").ToList();
        foreach (var job in valid) Api.Script(job, FakeResponse.Status("QUEUING"), Success(job));
        // The API answers at once here; the default timeout keeps a machine busy with the flood from
        // turning a slow answer into retries (with Faulty's 0.5 s, a stall cost 6 calls on RabbitMQ 4.0).
        var service = await StartService();

        await using (var connection = await Broker.Connect())
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            for (var i = 0; i < 20; i++)
            {
                await Publish(channel, "this is { not json");
                await Publish(channel, Envelope("CheckTaskResult", $$"""{"jobId":{{i}},"taskType":true}"""));
                await Publish(channel, Envelope("SomethingElse", """{"jobId":"x"}"""));
                await Publish(channel, Envelope("CheckTaskResult", $$"""{"jobId":"badtype-{{i}}","taskType":"hd_colour_migration"}"""));
                await Publish(channel, Envelope("CheckTaskResult", $$"""{"jobId":"{{new string('x', 10_000)}}","taskType":"HD_COLOUR_MIGRATION"}"""));
                await Publish(channel, Envelope("CheckTaskResult", $$"""{"jobId":"{{valid[i]}}","taskType":"HD_COLOUR_MIGRATION"}"""));
            }
        }

        foreach (var job in valid) await Listener.WaitFor<TaskSucceeded>(job, EventTimeout);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(FailureReasons.InvalidCommand, (await Listener.WaitFor<TaskFailed>($"badtype-{i}", EventTimeout)).Message.Reason);
        }

        // The event names the job by an excerpt of the sender's id (256 characters and an ellipsis), never the whole of it.
        var oversized = Listener.Events<TaskFailed>(new string('x', 256) + "…");
        Assert.Equal(20, oversized.Count);
        Assert.All(oversized, e => Assert.Equal(FailureReasons.InvalidCommand, e.Message.Reason));
        Assert.Equal(40u, await Broker.MessageCount("check-task-result_error"));
        Assert.Equal(20u, await Broker.MessageCount("check-task-result_skipped"));
        Assert.All(Api.Requests, r => Assert.StartsWith("valid-", r.JobId, StringComparison.Ordinal));
        // Two checks per valid job; at-least-once may repeat one when a delivery is handed out again under load.
        var calledMore = valid.Where(job => Api.CallsFor(job) > 2)
            .Select(job => $"{job} at {string.Join(", ", Api.Requests.Where(r => r.JobId == job).Select(r => r.At.ToString("HH:mm:ss.fff")))}");
        Assert.True(Api.Requests.Count is >= 40 and <= 44,
            $"{Api.Requests.Count} API calls, 40-44 expected. Called more than twice: {string.Join("; ", calledMore)}\n{service.Output}");
        await service.WaitUntilReady(TimeSpan.FromSeconds(5)); // still up, still consuming
        output.WriteLine($"flood: 100 malformed + 20 valid; valid finished 20, lost 0; _error 40, _skipped 20, INVALID_COMMAND 40; API calls {Api.Requests.Count} (minimum 40)");
    }

    private static string Envelope(string type, string message) =>
        $$"""{"messageId":"{{Guid.NewGuid()}}","messageType":["urn:message:TaskResults.Contracts:{{type}}"],"message":{{message}}}""";

    private static async Task Publish(IChannel channel, string body)
    {
        var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json", Persistent = true };
        await channel.BasicPublishAsync("check-task-result", "", true, properties, Encoding.UTF8.GetBytes(body));
    }
}
