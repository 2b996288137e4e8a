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
        // When each querying check started, by the service's own clock: NextCheckAt is that moment plus
        // the scheduled wait. (The fake's arrival times are no measure: a cold first call can take a
        // few hundred ms to arrive.)
        var schedule = service.Schedule();
        Assert.All(pending, p =>
        {
            var startedAt = p.NextCheckAt - schedule.AfterPending(p.Attempt);
            Assert.True(startedAt < deadline, $"The check started at {startedAt:O} queried the API after the deadline {deadline:O}.");
        });
        Assert.Single(service.Events<TaskFailed>("job-slow"));
    }
}
