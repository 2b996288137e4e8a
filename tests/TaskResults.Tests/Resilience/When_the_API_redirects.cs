using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TaskResults.Service.Api;

namespace TaskResults.Tests.Resilience;

public sealed class When_the_API_redirects
{
    [Fact]
    public async Task Should_not_follow_so_the_key_never_reaches_another_host()
    {
        await using var api = await FakeAILabToolsApi.StartAsync();
        await using var elsewhere = await FakeAILabToolsApi.StartAsync();
        api.Script("moved", new FakeResponse(302, "").WithHeader("Location", $"{elsewhere.BaseUrl}/api/image/asyn-task-results?job_id=moved&type=HD_COLOUR_MIGRATION"));
        await using var services = ClientServices.Build(api);

        var outcome = await services.Client.CheckAsync("moved", TaskTypes.HdColourMigration, default);

        // A wrong address, not this job's fault: transient (held back), under a code of its own.
        var redirected = Assert.IsType<CheckOutcome.TransientError>(outcome);
        Assert.Equal(ApiErrorCodes.Redirect, redirected.Error.Code);
        Assert.Equal(302, redirected.Call.HttpStatus);
        Assert.Contains("redirect", redirected.Error.Message, StringComparison.Ordinal);
        Assert.Empty(elsewhere.Requests);
    }

    [Fact]
    public async Task Should_hold_checks_back_as_an_incident_and_fail_jobs_only_by_their_deadline()
    {
        var logs = new CapturingLoggerProvider();
        await using var service = await ServiceHarness.StartAsync(
            settings =>
            {
                settings["Polling:DefaultDeadline"] = "00:00:01.500";
                // Redirects open the breaker like an outage; a short break keeps the spec short.
                settings["AILabTools:BreakDuration"] = "00:00:01";
            },
            services: s => s.AddLogging(l => l.AddProvider(logs)));
        service.Api.Unscripted = new FakeResponse(301, "").WithHeader("Location", "https://elsewhere.example/api");
        var jobs = Enumerable.Range(1, 10).Select(i => $"redirected-{i}").ToList();

        foreach (var job in jobs) await service.Send(new CheckTaskResult { JobId = job, TaskType = TaskTypes.HdColourMigration });

        foreach (var job in jobs)
        {
            // Before: every job failed at once with API_ERROR, draining the queue.
            var failed = (await service.WaitFor<TaskFailed>(job)).Context.Message;
            Assert.Equal(FailureReasons.DeadlineExceeded, failed.Reason);
            // Why it ran out of time: the redirect, or the pause the redirects caused.
            Assert.Matches($"{ApiErrorCodes.Redirect}|{ApiErrorCodes.CircuitOpen}", failed.ErrorMessage);
        }

        var loud = Assert.Single(logs.Lines, l => l.Level == LogLevel.Critical);
        Assert.Contains("AILabTools:BaseUrl", loud.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("redirect", StringComparison.OrdinalIgnoreCase));
    }
}
