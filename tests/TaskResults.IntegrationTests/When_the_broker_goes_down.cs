using System.Net;
using TaskResults.IntegrationTests.Support;

namespace TaskResults.IntegrationTests;

public sealed class When_the_broker_goes_down(Broker broker) : RealBrokerScenario(broker)
{
    [Fact]
    public async Task Should_report_not_ready_while_it_is_down_and_ready_again_after()
    {
        var service = await StartService();
        using var http = new HttpClient { BaseAddress = new Uri(service.HealthUrl), Timeout = TimeSpan.FromSeconds(5) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);

        await Broker.Stop();
        try
        {
            Assert.True(await Eventually(async () => (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.ServiceUnavailable),
                "/health/ready still said ready 30 s after the broker stopped.");
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
        }
        finally
        {
            await Broker.Resume();
        }

        Assert.True(await Eventually(async () => (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK),
            "/health/ready did not recover 30 s after the broker came back.");
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
