using TaskResults.IntegrationTests.Support;

namespace TaskResults.IntegrationTests;

public sealed class When_the_broker_restarts_while_jobs_wait(Broker broker) : RealBrokerScenario(broker)
{
    [Fact]
    public async Task Should_reconnect_and_finish_every_job()
    {
        var jobs = Enumerable.Range(1, 5).Select(i => $"restart-{i}").ToArray();
        foreach (var job in jobs)
        {
            Api.Script(job, FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESSING"),
                FakeResponse.Status("PROCESS_SUCCESS", resultUrl: $"https://files.example/{job}.png"));
        }

        await StartService();
        foreach (var job in jobs) await Listener.Send(new CheckTaskResult { JobId = job, TaskType = TaskTypes.GenerateCartoonizedImage });
        foreach (var job in jobs) await Listener.WaitFor<TaskPending>(job, EventTimeout);

        // The jobs now wait in the broker's wait queues while the broker goes away and comes back.
        await Broker.Restart();

        foreach (var job in jobs)
        {
            var succeeded = await Listener.WaitFor<TaskSucceeded>(job, EventTimeout);
            Assert.Equal([$"https://files.example/{job}.png"], succeeded.Message.ResultUrls);
        }
    }
}
