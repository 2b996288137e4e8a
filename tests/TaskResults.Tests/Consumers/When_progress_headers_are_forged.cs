using MassTransit;
using MassTransit.Testing;
using TaskResults.Service.Scheduling;

namespace TaskResults.Tests.Consumers;

/// <summary>
/// The TaskResults-* headers travel on the bus, where any sender can write them. They are claims,
/// clamped to what this service could have written: none can keep a job polled past
/// Polling:MaxDeadline, make a check throw, or put unbounded text into an event.
/// </summary>
public sealed class When_progress_headers_are_forged
{
    public static TheoryData<string, string> Forgeries => new()
    {
        { CheckProgress.AttemptHeader, int.MaxValue.ToString() },
        { CheckProgress.AttemptHeader, "-5" },
        { CheckProgress.AttemptHeader, "not a number" },
        { CheckProgress.TransientErrorsHeader, int.MaxValue.ToString() },
        { CheckProgress.FirstCheckAtHeader, DateTimeOffset.MaxValue.ToString("O") },
        { CheckProgress.FirstCheckAtHeader, DateTimeOffset.MinValue.ToString("O") },
        { CheckProgress.DeadlineHeader, DateTimeOffset.MaxValue.ToString("O") },
        { CheckProgress.DeadlineHeader, DateTimeOffset.MinValue.ToString("O") },
    };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task Should_end_the_job_with_an_event_and_never_throw(string header, string value)
    {
        await using var service = await ServiceHarness.StartAsync();
        // A transient error first, so that the counters read from the headers are also counted on.
        service.Api.Script("forged", FakeResponse.Error(503, "SERVICE_BUSY", "busy"), FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/forged.png"));

        await service.Send(new CheckTaskResult { JobId = "forged", TaskType = TaskTypes.GenerateCartoonizedImage }, context => context.Headers.Set(header, value));

        var terminal = await service.Harness.Published.SelectAsync((IPublishedMessage m) => m.MessageObject is TaskSucceeded { JobId: "forged" } or TaskFailed { JobId: "forged" }).FirstOrDefault<IPublishedMessage>();
        Assert.True(terminal is not null, "No terminal event within the harness timeout.");
        var attempts = terminal.MessageObject is TaskSucceeded succeeded ? succeeded.Attempts : ((TaskFailed)terminal.MessageObject).Attempts;
        Assert.InRange(attempts, 0, CheckProgress.MaxAttempts + 2);

        await service.UntilQuiet();
        Assert.All(service.Checks("forged"), check => Assert.Null(check.Exception));
        Assert.Empty(service.Harness.Published.Select<Fault<CheckTaskResult>>());
        Assert.Equal(1, service.Events<TaskSucceeded>("forged").Count + service.Events<TaskFailed>("forged").Count);
    }

    [Fact]
    public async Task Should_count_an_attempt_at_int_MaxValue_without_wrapping_to_a_negative_one()
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("wrapped", FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/wrapped.png"));

        await service.Send(new CheckTaskResult { JobId = "wrapped", TaskType = TaskTypes.GenerateCartoonizedImage },
            context => context.Headers.Set(CheckProgress.AttemptHeader, int.MaxValue.ToString()));

        var succeeded = (await service.WaitFor<TaskSucceeded>("wrapped")).Context.Message;
        Assert.InRange(succeeded.Attempts, 1, CheckProgress.MaxAttempts + 2);
        Assert.All(service.Events<TaskPending>("wrapped"), pending => Assert.True(pending.Attempt > 0, $"Attempt {pending.Attempt}."));
    }

    [Fact]
    public async Task Should_not_poll_past_the_maximum_deadline_whatever_first_check_a_header_claims()
    {
        var maxDeadline = TimeSpan.FromSeconds(1);
        await using var service = await ServiceHarness.StartAsync(settings =>
        {
            settings["Polling:DefaultDeadline"] = maxDeadline.ToString();
            settings["Polling:MaxDeadline"] = maxDeadline.ToString();
        });
        service.Api.Script("from-2100", FakeResponse.Status("QUEUING"));
        var sentAt = DateTimeOffset.UtcNow;

        // As tried from outside: a first check in 2100 kept the job polled long past a 20 s cap.
        await service.Send(new CheckTaskResult { JobId = "from-2100", TaskType = TaskTypes.HdColourMigration },
            context => context.Headers.Set(CheckProgress.FirstCheckAtHeader, "2100-01-01T00:00:00Z"));

        var failed = (await service.WaitFor<TaskFailed>("from-2100")).Context.Message;
        Assert.Equal(FailureReasons.DeadlineExceeded, failed.Reason);
        var firstPending = service.Events<TaskPending>("from-2100")[0];
        // The deadline counts from when this service first saw the job, not from the claim.
        Assert.InRange(firstPending.Deadline, sentAt + maxDeadline, DateTimeOffset.UtcNow);
        Assert.All(service.Events<TaskPending>("from-2100"), pending => Assert.Equal(firstPending.Deadline, pending.Deadline));
    }

    [Fact]
    public async Task Should_repeat_only_an_excerpt_of_a_huge_last_error()
    {
        await using var service = await ServiceHarness.StartAsync();
        var megabyte = new string('e', 1024 * 1024);

        await service.Send(new CheckTaskResult { JobId = "loud", TaskType = TaskTypes.HdColourMigration, Deadline = DateTimeOffset.UtcNow.AddMinutes(-1) },
            context => context.Headers.Set(CheckProgress.LastErrorHeader, megabyte));

        var failed = (await service.WaitFor<TaskFailed>("loud")).Context.Message;
        Assert.Equal(FailureReasons.DeadlineExceeded, failed.Reason);
        Assert.Contains("eeee", failed.ErrorMessage);
        Assert.InRange(failed.ErrorMessage!.Length, 1, 1000);
    }
}
