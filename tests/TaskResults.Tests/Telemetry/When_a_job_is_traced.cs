using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Trace;
using TaskResults.Service;
using TaskResults.Service.Extensions;
using Tags = TaskResults.Service.TaskResultsTelemetry.Tags;

namespace TaskResults.Tests.Telemetry;

/// <summary>Listeners are process-wide: these specs run alone so no other spec's spans or measurements mix in.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "telemetry";
}

[Collection(TelemetryCollection.Name)]
public sealed class When_a_job_is_traced
{
    private static readonly ActivitySource Publisher = new("TaskResults.Tests.Publisher");

    [Fact]
    public async Task Should_put_every_span_of_the_job_in_the_publishers_trace_with_the_job_attributes()
    {
        var spans = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(Publisher.Name)
            .AddTaskResultsTracing()
            .AddInMemoryExporter(spans)
            .Build();
        var logs = new List<LogRecord>();
        await using var service = await ServiceHarness.StartAsync(services: s => s.AddLogging(l => l.AddOpenTelemetry(o => { o.IncludeFormattedMessage = true; o.AddInMemoryExporter(logs); })));
        service.Api.Script("traced-1",
            FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESSING"),
            FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/traced.png"]));

        ActivityTraceId traceId;
        ActivitySpanId senderSpanId;
        using (var publish = Publisher.StartActivity("order-service sends CheckTaskResult"))
        {
            traceId = publish!.TraceId;
            senderSpanId = publish.SpanId;
            await service.Send(new CheckTaskResult { JobId = "traced-1", TaskType = TaskTypes.HdColourMigration });
        }

        await service.WaitFor<TaskSucceeded>("traced-1");
        await service.UntilQuiet();
        tracing.ForceFlush();

        var jobSpans = spans.Where(s => (s.GetTagItem(Tags.JobId) as string) == "traced-1").ToList();
        Assert.All(jobSpans, span => Assert.Equal(traceId, span.TraceId));
        // Every span of the trace but the sender's own (its span and its send) belongs to the job: receive, process, API, HTTP, send, publish.
        Assert.All(spans.Where(s => s.TraceId == traceId && s.SpanId != senderSpanId && s.ParentSpanId != senderSpanId), span => Assert.Contains(span, jobSpans));
        Assert.Equal(3, jobSpans.Count(s => s.DisplayName == "check-task-result receive"));

        var checks = jobSpans.Where(s => s.DisplayName == "check-task-result process").OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal([1, 2, 3], checks.Select(s => (int)s.GetTagItem(Tags.Attempt)!));
        Assert.All(checks, s => Assert.Equal(TaskTypes.HdColourMigration, s.GetTagItem(Tags.TaskType)));

        var apiCalls = jobSpans.Where(s => s.Source.Name == TaskResultsTelemetry.Name).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(["QUEUING", "PROCESSING", null], apiCalls.Select(s => s.GetTagItem(Tags.ApiStatus) as string));
        Assert.Equal(["pending", "pending", "succeeded"], apiCalls.Select(s => s.GetTagItem(Tags.Outcome) as string));
        Assert.All(apiCalls, s => Assert.Equal("req-1", s.GetTagItem(Tags.ApiRequestId)));
        Assert.All(apiCalls, s => Assert.Equal("log-1", s.GetTagItem(Tags.ApiLogId)));

        // The HTTP call is a child of the API span and carries the job too.
        var http = jobSpans.Where(s => s.Source.Name.StartsWith("System.Net.Http", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, http.Count);
        Assert.All(http, s => Assert.Contains(apiCalls, api => api.SpanId == s.ParentSpanId));

        // ...and so does the publish of the terminal event, in the same trace.
        Assert.Contains(jobSpans, s => s.Kind == ActivityKind.Producer && s.DisplayName.Contains("TaskSucceeded", StringComparison.Ordinal));
        Assert.Equal(2, jobSpans.Count(s => s.Kind == ActivityKind.Producer && s.DisplayName.Contains("TaskPending", StringComparison.Ordinal)));

        var everyTag = spans.SelectMany(s => s.TagObjects).Select(t => $"{t.Key}={t.Value}").ToList();
        Assert.DoesNotContain(everyTag, t => t.Contains(FakeAILabToolsApi.ApiKey, StringComparison.Ordinal));
        Assert.All(logs, l => Assert.DoesNotContain(FakeAILabToolsApi.ApiKey, $"{l.FormattedMessage} {l.Body} {string.Join(",", l.Attributes ?? [])}"));
        Assert.Contains(logs, l => l.FormattedMessage?.Contains("Job traced-1 (HD_COLOUR_MIGRATION) finished: succeeded", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Should_count_checks_by_outcome_and_measure_finished_jobs()
    {
        var measurements = new List<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == TaskResultsTelemetry.Name) l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("measured-1", FakeResponse.Status("QUEUING"), FakeResponse.Error(429, "EXCEEDING_LIMITS", "Slow down"),
            FakeResponse.Status("PROCESS_FAILED"));
        await service.Send(new CheckTaskResult { JobId = "measured-1", TaskType = TaskTypes.GenerateCartoonizedImage });
        await service.WaitFor<TaskFailed>("measured-1");
        await service.UntilQuiet();

        List<string> Outcomes(string instrument) => measurements.Where(m => m.Instrument == instrument).Select(m => $"{m.Tags["outcome"]}{(m.Tags.TryGetValue("reason", out var r) ? "/" + r : "")}").ToList();
        lock (measurements)
        {
            Assert.Equal(["pending", "transient_error", "failed/PROCESS_FAILED"], Outcomes("taskresults.checks"));
            Assert.Equal(["pending", "transient_error", "failed"], Outcomes("taskresults.api.duration"));
            Assert.Equal(3, measurements.Single(m => m.Instrument == "taskresults.job.attempts").Value);
            Assert.Equal("failed", measurements.Single(m => m.Instrument == "taskresults.job.duration").Tags["outcome"]);
        }

        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags) copy[tag.Key] = tag.Value;
            lock (measurements) measurements.Add((instrument.Name, value, copy));
        }
    }

    [Fact]
    public async Task Should_trace_each_download_and_upload_in_the_jobs_trace_and_measure_the_archive()
    {
        var spans = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(Publisher.Name).AddTaskResultsTracing().AddInMemoryExporter(spans).Build();
        var measurements = new List<(string Instrument, double Value)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == TaskResultsTelemetry.Name) l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => { lock (measurements) measurements.Add((i.Name, v)); });
        listener.SetMeasurementEventCallback<double>((i, v, _, _) => { lock (measurements) measurements.Add((i.Name, v)); });
        listener.Start();
        await using var files = await FakeFileHost.StartAsync();
        var directory = Path.Combine(Path.GetTempPath(), "taskresults-traced-" + Guid.NewGuid().ToString("N"));
        await using var service = await ServiceHarness.StartAsync(settings =>
        {
            settings["Archive:Store"] = "FileSystem";
            settings["Archive:Directory"] = directory;
            settings["Archive:AllowedHosts:0"] = "127.0.0.1";
        });
        service.Api.Script("traced-archive", FakeResponse.Status("PROCESS_SUCCESS", imageList: [files.Url("one.png"), files.Url("two.png")]));

        ActivityTraceId traceId;
        using (var publish = Publisher.StartActivity("order-service sends CheckTaskResult"))
        {
            traceId = publish!.TraceId;
            await service.Send(new CheckTaskResult { JobId = "traced-archive", TaskType = TaskTypes.HdColourMigration });
        }

        await service.WaitFor<TaskResultsArchived>("traced-archive");
        await service.UntilQuiet();
        tracing.ForceFlush();
        Directory.Delete(directory, recursive: true);

        var archiveSpans = spans.Where(s => s.DisplayName is "archive download" or "archive upload").ToList();
        Assert.Equal(["archive download", "archive upload", "archive download", "archive upload"], archiveSpans.OrderBy(s => s.StartTimeUtc).Select(s => s.DisplayName));
        Assert.All(archiveSpans, span => Assert.Equal((traceId, "traced-archive"), (span.TraceId, span.GetTagItem(Tags.JobId) as string)));
        lock (measurements)
        {
            Assert.Equal(2, measurements.Single(m => m.Instrument == "taskresults.archive.files").Value);
            Assert.Equal(2 * 1024, measurements.Single(m => m.Instrument == "taskresults.archive.bytes").Value);
            Assert.InRange(measurements.Single(m => m.Instrument == "taskresults.archive.lag").Value, 0, 60);
        }
    }
}
