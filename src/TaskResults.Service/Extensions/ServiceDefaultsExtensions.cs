using MassTransit.Logging;
using MassTransit.Monitoring;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace TaskResults.Service.Extensions;

/// <summary>One place for telemetry and health, as eShop's ServiceDefaults.</summary>
public static class ServiceDefaultsExtensions
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.ConfigureOpenTelemetry();
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    public static IHostApplicationBuilder ConfigureOpenTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win when set.
                if (string.IsNullOrEmpty(builder.Configuration["OTEL_SERVICE_NAME"])) resource.AddService("taskresults");
            })
            .WithTracing(tracing => tracing
                .AddTaskResultsTracing()
                .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = http => !http.Request.Path.StartsWithSegments("/health")))
            .WithMetrics(metrics => metrics
                .AddTaskResultsMetrics()
                .AddAspNetCoreInstrumentation());

        // Standard OTEL_EXPORTER_OTLP_* variables; nothing is exported when no endpoint is set.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])) telemetry.UseOtlpExporter();

        if (builder.Configuration.GetValue<bool>("Telemetry:Console"))
        {
            telemetry.WithTracing(tracing => tracing.AddConsoleExporter()).WithMetrics(metrics => metrics.AddConsoleExporter());
        }

        return builder;
    }

    /// <summary>MassTransit's spans, the service's own, HTTP client spans, and the job attributes on all of them.</summary>
    public static TracerProviderBuilder AddTaskResultsTracing(this TracerProviderBuilder tracing) => tracing
        .AddSource(DiagnosticHeaders.DefaultListenerName, TaskResultsTelemetry.Name)
        .AddHttpClientInstrumentation()
        .AddProcessor(new JobTagsProcessor());

    /// <summary>MassTransit's meter, the service's own, and HTTP client metrics.</summary>
    public static MeterProviderBuilder AddTaskResultsMetrics(this MeterProviderBuilder metrics) => metrics
        .AddMeter(InstrumentationOptions.MeterName, TaskResultsTelemetry.Name)
        .AddHttpClientInstrumentation();

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new() { Predicate = check => check.Tags.Contains(LiveTag) });
        // Everything, Degraded included (200 with "Degraded" in the body): e.g. the job registry away while checks go on.
        app.MapHealthChecks("/health");
        app.MapHealthChecks("/health/ready", new()
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            // MassTransit reports a lost broker connection as Degraded: not ready to do work.
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        });
        return app;
    }
}
