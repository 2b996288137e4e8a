using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TaskResults.Tests.Consumers;

/// <summary>Events leave the service: nothing it puts on the bus may carry the key, whatever path the job took.</summary>
public sealed class Should_never_publish_the_API_key
{
    [Fact]
    public async Task Should_leave_the_key_out_of_every_event_and_rescheduled_command()
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api
            .Script("job-ok", FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/ok.png"]))
            .Script("job-bad-key", FakeResponse.Error(401, "ERROR_USER_NOT_EXISTS", "The user does not exist."))
            .Script("job-dropped", ApiAnswers.DroppedConnection, FakeResponse.Raw(502, "<html>Bad Gateway</html>"), FakeResponse.Status("PROCESS_FAILED"))
            .Script("task-ok", FakeResponse.TaskStatus(2, new { result_url = "https://files.example/task.png" }));

        await service.Send(new CheckTaskResult { JobId = "job-ok", TaskType = TaskTypes.HdColourMigration });
        await service.Send(new CheckTaskResult { JobId = "job-bad-key", TaskType = TaskTypes.GenerateCartoonizedImage });
        await service.Send(new CheckTaskResult { JobId = "job-dropped", TaskType = TaskTypes.GenerateCartoonizedImage });
        await service.Send(new CheckTaskResult { JobId = "task-ok", TaskType = TaskTypes.AsyncTask });
        await service.Send(new CheckTaskResult { JobId = "job-invalid", TaskType = "NOT_A_TYPE" });
        await service.Send(new CheckTaskResult { JobId = "job-expired", TaskType = TaskTypes.HdColourMigration, Deadline = DateTimeOffset.UtcNow.AddSeconds(-1) });

        await service.WaitFor<TaskSucceeded>("job-ok");
        await service.WaitFor<TaskFailed>("job-bad-key");
        await service.WaitFor<TaskFailed>("job-dropped");
        await service.WaitFor<TaskSucceeded>("task-ok");
        await service.WaitFor<TaskFailed>("job-invalid");
        await service.WaitFor<TaskFailed>("job-expired");
        await service.UntilQuiet();

        var everything = service.EverythingOnTheBusAsJson().ToList();
        Assert.True(everything.Count >= 2 * 8, "Expected at least the eight events and their headers on the bus.");
        Assert.All(everything, json => Assert.DoesNotContain(FakeAILabToolsApi.ApiKey, json));
    }

    [Fact]
    public async Task Should_redact_the_key_when_the_API_or_a_proxy_echoes_it()
    {
        var logs = new CapturingLoggerProvider();
        var tags = new List<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { lock (tags) tags.AddRange(activity.TagObjects.Select(t => $"{t.Key}={t.Value}")); },
        };
        ActivitySource.AddActivityListener(listener);
        await using var service = await ServiceHarness.StartAsync(services: s => s.AddLogging(l => l.AddProvider(logs)));
        var key = FakeAILabToolsApi.ApiKey;
        service.Api
            .Script("echo-permanent", FakeResponse.Error(400, "ERROR_INVALID_PARAMETER", $"Bad request with ailabapi-api-key: {key}"))
            .Script("echo-transient", FakeResponse.Error(503, "SERVICE_BUSY", $"upstream said key={Uri.EscapeDataString(key)}"), FakeResponse.Status("PROCESS_FAILED"))
            .Script("echo-data", FakeResponse.TaskStatus(2, new { result_url = $"https://files.example/r.png?k={key}", note = $"made for {key}" }));

        await service.Send(new CheckTaskResult { JobId = "echo-permanent", TaskType = TaskTypes.HdColourMigration });
        await service.Send(new CheckTaskResult { JobId = "echo-transient", TaskType = TaskTypes.GenerateCartoonizedImage });
        await service.Send(new CheckTaskResult { JobId = "echo-data", TaskType = TaskTypes.AsyncTask });

        var permanent = (await service.WaitFor<TaskFailed>("echo-permanent")).Context.Message;
        Assert.Contains("***", permanent.ErrorMessage);
        await service.WaitFor<TaskFailed>("echo-transient");
        await service.WaitFor<TaskSucceeded>("echo-data");
        await service.UntilQuiet();

        Assert.All(service.EverythingOnTheBusAsJson(), json => Assert.DoesNotContain(key, json));
        Assert.NotEmpty(logs.Lines);
        Assert.All(logs.Lines, line => Assert.DoesNotContain(key, line.Message));
        lock (tags)
        {
            Assert.NotEmpty(tags);
            Assert.All(tags, tag => Assert.DoesNotContain(key, tag));
        }
    }
}
