using MassTransit;
using TaskResults.IntegrationTests.Support;
using TaskStatus = TaskResults.Contracts.TaskStatus;

namespace TaskResults.IntegrationTests;

/// <summary>
/// Issue 14 on the real broker with a real Redis and the real service process: another service asks
/// for a job's status and cancels it through MassTransit's request/response on the control queue;
/// the cancel's TaskFailed goes out at once and the job's next check calls nothing.
/// </summary>
public sealed class When_a_job_is_steered_on_a_real_broker(Broker broker, RedisServer redis) : RealBrokerScenario(broker), IClassFixture<RedisServer>
{
    [Fact]
    public async Task Should_answer_its_status_and_cancel_it_before_its_next_check()
    {
        Api.Script("steered", FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/too-late.png"]));
        // Five seconds between checks: the cancel lands while the job waits, even on a busy machine.
        var service = await StartService(new Dictionary<string, string>
        {
            ["Registry__Store"] = "Redis",
            ["ConnectionStrings__Redis"] = redis.ConnectionString,
            ["Registry__KeyPrefix"] = "it-" + Guid.NewGuid().ToString("N"),
            ["Polling__Interval"] = "00:00:05",
            ["Polling__MaxInterval"] = "00:00:05",
            ["Logging__LogLevel__TaskResults.Service.Consumers.CheckTaskResultConsumer"] = "Debug",
        });
        await Listener.Send(new CheckTaskResult { JobId = "steered", TaskType = TaskTypes.HdColourMigration });
        var pending = (await Listener.WaitFor<TaskPending>("steered", EventTimeout)).Message;

        var status = (await Listener.Bus.CreateRequestClient<GetTaskStatus>(TaskResultsEndpoints.Control, RequestTimeout.After(s: 30))
            .GetResponse<TaskStatus>(new GetTaskStatus { JobId = "steered", TaskType = TaskTypes.HdColourMigration })).Message;
        Assert.Equal((TaskStates.Pending, "QUEUING", 1, pending.NextCheckAt), (status.State, status.LastStatus, status.Attempts, status.NextCheckAt));

        var cancelled = (await Listener.Bus.CreateRequestClient<CancelTaskResult>(TaskResultsEndpoints.Control, RequestTimeout.After(s: 30))
            .GetResponse<TaskCancellation>(new CancelTaskResult { JobId = "steered", TaskType = TaskTypes.HdColourMigration, Reason = "not needed" })).Message;
        Assert.Equal((CancelOutcomes.Cancelled, TaskStates.Cancelled), (cancelled.Outcome, cancelled.Status.State));
        var failed = (await Listener.WaitFor<TaskFailed>("steered", EventTimeout)).Message;
        Assert.Equal((FailureReasons.Cancelled, "not needed"), (failed.Reason, failed.ErrorMessage));

        // The job's next check comes out of its wait queue and ends its chain: no call; the cancel's event again, nothing else.
        var until = DateTime.UtcNow + EventTimeout;
        while (Listener.Events<TaskFailed>("steered").Count < 2)
        {
            Assert.True(DateTime.UtcNow < until, $"The cancelled job's next check never came:\n{service.Output}");
            await Task.Delay(100);
        }

        Assert.Contains("the job was cancelled", service.Output);
        Assert.Equal(1, Api.CallsFor("steered"));
        Assert.Empty(Listener.Events<TaskSucceeded>("steered"));
        Assert.All(Listener.Events<TaskFailed>("steered"), e => Assert.Equal(FailureReasons.Cancelled, e.Message.Reason));
    }
}
