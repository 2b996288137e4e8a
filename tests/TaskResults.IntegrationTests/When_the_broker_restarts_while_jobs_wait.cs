using TaskResults.IntegrationTests.Support;

namespace TaskResults.IntegrationTests;

public sealed class When_the_broker_restarts_while_jobs_wait(Broker broker) : RealBrokerScenario(broker)
{
    private static readonly TimeSpan LongWait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Should_reconnect_and_finish_every_job()
    {
        var jobs = Enumerable.Range(1, 5).Select(i => $"restart-{i}").ToArray();
        foreach (var job in jobs)
        {
            Api.Script(job, FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESS_SUCCESS", resultUrl: $"https://files.example/{job}.png"));
        }

        // A wait long enough that the jobs are still waiting in the broker when it goes down.
        await StartService(new Dictionary<string, string>
        {
            ["Polling__Interval"] = LongWait.ToString(),
            ["Polling__MaxInterval"] = LongWait.ToString(),
        });
        foreach (var job in jobs) await Listener.Send(new CheckTaskResult { JobId = job, TaskType = TaskTypes.GenerateCartoonizedImage });
        foreach (var job in jobs) await Listener.WaitFor<TaskPending>(job, EventTimeout);

        Assert.True(await Broker.WaitForMessageCount("check-task-result-wait-20000ms", 5, TimeSpan.FromSeconds(10)), "The jobs are not waiting in the wait queue.");
        await Broker.Stop();
        Assert.Empty(jobs.SelectMany(job => Listener.Events<TaskSucceeded>(job)));
        await Broker.Resume();

        foreach (var job in jobs)
        {
            var succeeded = await Listener.WaitFor<TaskSucceeded>(job, EventTimeout);
            Assert.Equal([$"https://files.example/{job}.png"], succeeded.Message.ResultUrls);
        }

        Assert.Equal(10, Api.Requests.Count);
    }
}
