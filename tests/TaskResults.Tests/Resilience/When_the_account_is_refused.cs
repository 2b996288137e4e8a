using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using TaskResults.Service.Api;

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
    public void Should_say_when_the_incident_is_over_and_count_a_later_one_as_new()
    {
        var clock = new FakeTimeProvider();
        var logs = new CapturingLoggerProvider();
        var incidents = new ApiIncidentLog(clock, new LoggerFactory([logs]).CreateLogger<ApiIncidentLog>());
        var refused = new CheckOutcome.PermanentError(new ApiError("ERROR_USER_NOT_EXISTS", "Unknown key"), ApiErrorClass.BadKeyOrAccount) { Call = ApiCallInfo.None };
        var accepted = new CheckOutcome.Pending("QUEUING") { Call = ApiCallInfo.None };

        incidents.Observe(refused);
        incidents.Observe(accepted); // one job's status still reads fine: the account is not fixed yet
        clock.Advance(TimeSpan.FromSeconds(30));
        incidents.Observe(refused);
        clock.Advance(ApiIncidentLog.QuietPeriod);
        incidents.Observe(accepted);
        incidents.Observe(refused);

        Assert.Equal(2, logs.Lines.Count(l => l.Level == LogLevel.Critical));
        Assert.Single(logs.Lines, l => l.Message.Contains("accepts calls again", StringComparison.Ordinal) && l.Message.Contains("2 checks refused", StringComparison.Ordinal));
    }
}
