using MassTransit;
using TaskResults.Service.Scheduling;

namespace TaskResults.Tests.Consumers;

public sealed class When_a_pending_task_is_checked
{
    [Fact]
    public async Task Should_publish_TaskPending_for_each_pending_answer_then_TaskSucceeded()
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("job-1",
            FakeResponse.Status("QUEUING"),
            FakeResponse.Status("PROCESSING"),
            FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/cartoon.png"));
        var correlationId = NewId.NextGuid();

        await service.Send(new CheckTaskResult { JobId = "job-1", TaskType = TaskTypes.GenerateCartoonizedImage },
            send => send.CorrelationId = correlationId);

        var succeeded = await service.WaitFor<TaskSucceeded>("job-1");
        Assert.Equal(["https://files.example/cartoon.png"], succeeded.Context.Message.ResultUrls);
        Assert.Equal(3, succeeded.Context.Message.Attempts);
        Assert.Equal(correlationId, succeeded.Context.CorrelationId);

        var pending = service.Events<TaskPending>("job-1");
        Assert.Equal(["QUEUING", "PROCESSING"], pending.Select(p => p.Status));
        Assert.Equal([1, 2], pending.Select(p => p.Attempt));
        Assert.Equal(3, service.Api.CallsFor("job-1"));
    }

    [Fact]
    public async Task Should_carry_the_attempt_and_deadline_in_the_rescheduled_command()
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("job-2", FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/a.png"]));

        await service.Send(new CheckTaskResult { JobId = "job-2", TaskType = TaskTypes.HdColourMigration });

        await service.WaitFor<TaskSucceeded>("job-2");
        var pending = Assert.Single(service.Events<TaskPending>("job-2"));
        var checks = service.Harness.Consumed.Select<CheckTaskResult>().Where(m => m.Context.Message.JobId == "job-2").ToList();
        Assert.Equal(2, checks.Count);
        var second = checks[1].Context;
        Assert.Equal("1", second.Headers.Get<string>(CheckProgress.AttemptHeader));
        Assert.Equal(pending.Deadline, DateTimeOffset.Parse(second.Headers.Get<string>(CheckProgress.DeadlineHeader)!));
    }
}

public sealed class When_the_API_answers_a_pending_check_slowly
{
    [Fact]
    public async Task Should_wait_the_whole_interval_after_the_answer_before_checking_again()
    {
        // The answer takes longer than the interval: counted from the start of the check, the next
        // check would be due before the answer came and would follow it at once.
        var slowAnswer = TimeSpan.FromMilliseconds(400);
        var interval = TimeSpan.FromMilliseconds(300);
        await using var service = await ServiceHarness.StartAsync(settings => settings["Polling:Interval"] = interval.ToString());
        service.Api.Script("slow-pending",
            FakeResponse.Status("QUEUING") with { Delay = slowAnswer },
            FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/slow.png"));

        await service.Send(new CheckTaskResult { JobId = "slow-pending", TaskType = TaskTypes.HdColourMigration });

        await service.WaitFor<TaskSucceeded>("slow-pending");
        var calls = service.Api.Requests.Where(r => r.JobId == "slow-pending").Select(r => r.At).ToArray();
        Assert.Equal(2, calls.Length);
        var afterAnswer = calls[1] - (calls[0] + slowAnswer);
        Assert.True(afterAnswer >= interval * 0.9, $"The second check came {afterAnswer.TotalMilliseconds:F0} ms after the first answer; the interval is {interval.TotalMilliseconds:F0} ms.");
    }
}
