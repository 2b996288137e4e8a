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
