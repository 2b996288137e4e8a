namespace TaskResults.Tests.Consumers;

/// <summary>Past the deadline the next check publishes DEADLINE_EXCEEDED instead of querying again.</summary>
public sealed class When_the_deadline_passes
{
    [Fact]
    public async Task Should_fail_a_command_whose_deadline_is_already_past_without_calling_the_API()
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("job-late", FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/never-fetched.png"));

        await service.Send(new CheckTaskResult { JobId = "job-late", TaskType = TaskTypes.GenerateCartoonizedImage, Deadline = DateTimeOffset.UtcNow.AddMinutes(-1) });

        var failed = (await service.WaitFor<TaskFailed>("job-late")).Context.Message;
        Assert.Equal(FailureReasons.DeadlineExceeded, failed.Reason);
        Assert.Equal(0, failed.Attempts);
        Assert.Null(failed.HttpStatus);

        await service.UntilQuiet();
        Assert.Equal(0, service.Api.CallsFor("job-late"));
        Assert.Single(service.Checks("job-late"));
    }

    [Fact]
    public async Task Should_fail_a_job_still_queuing_at_its_deadline_and_not_query_after_it()
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("job-slow", FakeResponse.Status("QUEUING"));
        var deadline = DateTimeOffset.UtcNow.AddMilliseconds(400);

        await service.Send(new CheckTaskResult { JobId = "job-slow", TaskType = TaskTypes.HdColourMigration, Deadline = deadline });

        var failed = (await service.WaitFor<TaskFailed>("job-slow")).Context.Message;
        Assert.Equal(FailureReasons.DeadlineExceeded, failed.Reason);

        await service.UntilQuiet();
        var pending = service.Events<TaskPending>("job-slow");
        Assert.NotEmpty(pending);
        Assert.All(pending, p => Assert.Equal(deadline, p.Deadline));
        Assert.All(pending, p => Assert.Equal("QUEUING", p.Status));
        var calls = service.Api.CallsFor("job-slow");
        Assert.Equal(pending.Count, calls);
        Assert.Equal(calls, failed.Attempts);
        // Every check but the last asked the API; the last, past the deadline, only reported it.
        Assert.Equal(calls + 1, service.Checks("job-slow").Count);
        // Every querying check began before the deadline (the consumer looks at the clock after it
        // begins). The fake's arrival times are no measure: a cold first call can take a few hundred ms.
        var querying = service.Checks("job-slow").OrderBy(c => c.StartTime).Take(calls);
        Assert.All(querying, c => Assert.True(c.StartTime < deadline.UtcDateTime,
            $"The check that began at {c.StartTime:O} queried the API after the deadline {deadline:O}."));
        Assert.Single(service.Events<TaskFailed>("job-slow"));
    }
}
