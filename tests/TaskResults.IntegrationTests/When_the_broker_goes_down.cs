using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;
using TaskResults.IntegrationTests.Support;

namespace TaskResults.IntegrationTests;

public sealed class When_the_broker_goes_down(Broker broker, ITestOutputHelper output) : RealBrokerScenario(broker)
{
    /// <summary>MassTransit's own reconnects back off to half a minute; the service restarts its endpoint within seconds.</summary>
    private static readonly TimeSpan BackWithin = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Should_report_not_ready_while_it_is_down_and_consume_again_within_seconds_after()
    {
        // Timestamps, and what the watch's probe heard each second, to read against the broker's stop and start when this fails.
        var service = await StartService(new Dictionary<string, string>
        {
            ["Logging__Console__TimestampFormat"] = "HH:mm:ss.fff ",
            ["Logging__LogLevel__TaskResults.Service.Broker.CommandQueueProbe"] = "Debug",
        });
        using var http = new HttpClient { BaseAddress = new Uri(service.HealthUrl), Timeout = TimeSpan.FromSeconds(5) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);

        output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} stopping the broker");
        await Broker.Stop();
        try
        {
            Assert.True(await Eventually(async () => (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.ServiceUnavailable),
                "/health/ready still said ready 30 s after the broker stopped.");
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
            // Long enough for MassTransit's reconnect waits to grow: the case that took up to 21 s before.
            await Task.Delay(TimeSpan.FromSeconds(20));
        }
        finally
        {
            await Broker.Resume();
            output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} the broker accepts clients again");
        }

        var back = Stopwatch.StartNew();
        Assert.True(await Eventually(async () => (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK),
            "/health/ready did not recover 30 s after the broker came back.");
        output.WriteLine($"ready again {back.Elapsed.TotalSeconds:0.0} s after the broker accepted clients again");
        Assert.True(back.Elapsed < BackWithin, $"Ready again only after {back.Elapsed}.\n{service.Output}");

        Api.Script("after-restart", FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/back.png"]));
        await Listener.Send(new CheckTaskResult { JobId = "after-restart", TaskType = TaskTypes.HdColourMigration });
        await Listener.WaitFor<TaskSucceeded>("after-restart", EventTimeout);
    }

    private static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        var stopAt = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < stopAt)
        {
            if (await condition()) return true;
            await Task.Delay(250);
        }

        return false;
    }
}
