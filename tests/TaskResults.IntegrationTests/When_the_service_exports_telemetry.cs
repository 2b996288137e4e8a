using System.Diagnostics;
using MassTransit;
using TaskResults.IntegrationTests.Support;

namespace TaskResults.IntegrationTests;

public sealed class When_the_service_exports_telemetry(Broker broker) : RealBrokerScenario(broker)
{
    [Fact]
    public async Task Should_send_traces_metrics_and_logs_to_the_standard_OTLP_endpoint_without_the_key()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        Api.Script("otlp-1", FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/otlp.png"));
        await StartService(new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "taskresults-it",
            ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=integration",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        });

        await Listener.Send(new CheckTaskResult { JobId = "otlp-1", TaskType = TaskTypes.GenerateCartoonizedImage });
        await Listener.WaitFor<TaskSucceeded>("otlp-1", EventTimeout);

        Assert.True(await receiver.WaitForExportContaining("/v1/traces", "otlp-1", TimeSpan.FromSeconds(20)), "No trace export mentioned the job.");
        Assert.True(await receiver.WaitForExportContaining("/v1/metrics", "taskresults.checks", TimeSpan.FromSeconds(20)), "No metric export held taskresults.checks.");
        Assert.True(await receiver.WaitForExportContaining("/v1/logs", "finished: succeeded", TimeSpan.FromSeconds(20)), "No log export held the terminal line.");
        Assert.True(await receiver.WaitForExportContaining("/v1/traces", "taskresults-it", TimeSpan.FromSeconds(1)), "OTEL_SERVICE_NAME was not used.");
        Assert.True(await receiver.WaitForExportContaining("/v1/traces", "integration", TimeSpan.FromSeconds(1)), "OTEL_RESOURCE_ATTRIBUTES was not used.");
        Assert.All(receiver.Exports, e => Assert.Equal("application/x-protobuf", e.ContentType));
        Assert.DoesNotContain(receiver.Exports, e => OtlpReceiver.Contains(e.Body, FakeAILabToolsApi.ApiKey));
    }

    [Fact]
    public async Task Should_keep_the_senders_trace_through_the_wait_queue_into_every_event()
    {
        // A sender in another process (any language) passes its W3C trace context in MassTransit's header.
        await using var receiver = await OtlpReceiver.StartAsync();
        var senderTrace = ActivityTraceId.CreateRandom();
        var senderSpan = ActivitySpanId.CreateRandom();
        Api.Script("trace-1", FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/trace.png"));
        await StartService(new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        });

        await Listener.Send(new CheckTaskResult { JobId = "trace-1", TaskType = TaskTypes.HdColourMigration },
            configure: send => send.Headers.Set(DiagnosticIdHeader, $"00-{senderTrace}-{senderSpan}-01"));
        var succeeded = await Listener.WaitFor<TaskSucceeded>("trace-1", EventTimeout);

        // TaskPending from the first check, TaskSucceeded from the check that came back through the wait queue.
        var events = Listener.Events<TaskPending>("trace-1").Cast<ConsumeContext>().Append(succeeded).ToList();
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal(senderTrace.ToString(), TraceIdOf(e)));
    }

    private const string DiagnosticIdHeader = "Diagnostic-Id";

    private static string? TraceIdOf(ConsumeContext context) =>
        context.Headers.Get<string>(DiagnosticIdHeader) is { } id && ActivityContext.TryParse(id, null, out var parsed) ? parsed.TraceId.ToString() : null;

    [Fact]
    public async Task Should_export_nothing_when_no_endpoint_is_set()
    {
        // Not on the exporter's default port (localhost:4318), which something else on the machine may hold (a
        // collector, another run): on a port of its own, named by the per-signal variables, which an exporter,
        // had one been added, would follow. They alone do not turn export on: OTEL_EXPORTER_OTLP_ENDPOINT does.
        await using var receiver = await OtlpReceiver.StartAsync();
        Api.Script("no-otlp", FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/x.png"));
        await StartService(new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = $"{receiver.Endpoint}/v1/traces",
            ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] = $"{receiver.Endpoint}/v1/metrics",
            ["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"] = $"{receiver.Endpoint}/v1/logs",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        });

        await Listener.Send(new CheckTaskResult { JobId = "no-otlp", TaskType = TaskTypes.GenerateCartoonizedImage });
        await Listener.WaitFor<TaskSucceeded>("no-otlp", EventTimeout);

        // Several export intervals go by: an exporter, had one been added, would have sent by now.
        Assert.False(await receiver.WaitForExportContaining("/v1/metrics", "", TimeSpan.FromSeconds(2)));
        Assert.Empty(receiver.Exports);
    }
}
