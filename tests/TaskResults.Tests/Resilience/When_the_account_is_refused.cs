using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TaskResults.Tests.Resilience;

public sealed class When_the_account_is_refused
{
    [Fact]
    public async Task Should_fail_every_job_clearly_but_log_the_incident_once()
    {
        var logs = new CapturingLoggerProvider();
        await using var service = await ServiceHarness.StartAsync(services: s => s.AddLogging(l => l.AddProvider(logs)));
        var jobs = Enumerable.Range(1, 20).Select(i => $"broke-{i}").ToList();
        foreach (var job in jobs) service.Api.Script(job, FakeResponse.Error(429, "ERROR_NOT_ENOUGH_CREDITS", "Not enough credits"));

        foreach (var job in jobs) await service.Send(new CheckTaskResult { JobId = job, TaskType = TaskTypes.GenerateCartoonizedImage });
        foreach (var job in jobs)
        {
            var failed = (await service.WaitFor<TaskFailed>(job)).Context.Message;
            Assert.Equal((FailureReasons.ApiError, "ERROR_NOT_ENOUGH_CREDITS", 429), (failed.Reason, failed.ErrorCode, failed.HttpStatus));
        }

        var loud = logs.Lines.Where(l => l.Level >= LogLevel.Error).ToList();
        var line = Assert.Single(loud);
        Assert.Contains("NotEnoughCredits", line.Message, StringComparison.Ordinal);
        Assert.Equal(20, service.Api.Requests.Count);
    }

    [Fact]
    public async Task Should_say_when_the_incident_is_over()
    {
        var logs = new CapturingLoggerProvider();
        await using var service = await ServiceHarness.StartAsync(services: s => s.AddLogging(l => l.AddProvider(logs)));
        service.Api.Script("refused", FakeResponse.Error(401, "ERROR_USER_NOT_EXISTS", "Unknown key"));
        service.Api.Script("accepted", FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/ok.png"));

        await service.Send(new CheckTaskResult { JobId = "refused", TaskType = TaskTypes.HdColourMigration });
        await service.WaitFor<TaskFailed>("refused");
        await service.Send(new CheckTaskResult { JobId = "accepted", TaskType = TaskTypes.GenerateCartoonizedImage });
        await service.WaitFor<TaskSucceeded>("accepted");

        Assert.Single(logs.Lines, l => l.Level == LogLevel.Critical && l.Message.Contains("BadKeyOrAccount", StringComparison.Ordinal));
        Assert.Single(logs.Lines, l => l.Message.Contains("accepts calls again", StringComparison.Ordinal));
    }
}
