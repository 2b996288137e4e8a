using MassTransit;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using TaskResults.Contracts;
using TaskResults.Service.Archive;
using TaskResults.Service.Consumers;
using TaskResults.Service.Extensions;
using TaskResults.Service.Options;
using TaskResults.Service.Scheduling;

namespace TaskResults.Service.Cli;

/// <summary>
/// <c>TaskResults.Service check &lt;job-id&gt; --type &lt;type&gt;</c>: follows one job with the service's own
/// consumer, client and rescheduling (<see cref="TaskResultsExtensions.AddTaskResults"/>) on the
/// in-memory bus, and prints each event as it is published. Its syntax and help: <see cref="CheckCommandLine"/>.
/// </summary>
public static class CheckCommand
{
    public const int Succeeded = 0;
    public const int JobFailed = 1;
    public const int UsageOrConfigurationError = HostRunExtensions.ConfigurationError;
    public const int DeadlinePassed = 3;

    /// <summary>The job succeeded, but <c>--save</c> could not download every result.</summary>
    public const int NotSaved = 4;

    /// <summary>128 + SIGINT, as shells report a command stopped with Ctrl+C.</summary>
    public const int Interrupted = 130;

    public static bool IsRequested(string[] args) => args is ["check", ..];

    public static async Task<int> RunAsync(string[] args)
    {
        var commandLine = CheckCommandLine.Parse(args);
        if (CheckCommandLine.AsksForHelp(commandLine))
        {
            CheckCommandLine.WriteHelp(commandLine, Console.Out);
            return Succeeded;
        }

        CheckArguments check;
        try
        {
            check = CheckCommandLine.Read(commandLine, DateTimeOffset.UtcNow);
        }
        catch (UsageException exception)
        {
            await Console.Error.WriteLineAsync($"check: {exception.Message} See: check --help");
            return UsageOrConfigurationError;
        }

        using var host = BuildHost();
        if (!await host.Services.ValidateOptionsAsync()) return UsageOrConfigurationError;
        await host.StartAsync();
        try
        {
            var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            return await CheckAsync(host.Services, check).WaitAsync(stopping);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C (or SIGTERM): the host's console lifetime began stopping; no partial result.
            await Console.Error.WriteLineAsync("check: interrupted.");
            return Interrupted;
        }
        finally
        {
            await host.StopAsync(TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>Sends the one command and reports its events until the final one, whose exit code it returns.</summary>
    private static async Task<int> CheckAsync(IServiceProvider services, CheckArguments check)
    {
        var report = new CheckReport(Console.Out, check.Json, services.GetRequiredService<PollingSchedule>());
        var exitCode = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bus = services.GetRequiredService<IBus>();

        // The bus lives in this process only, so every event on it is about this one command.
        var events = bus.ConnectReceiveEndpoint(endpoint =>
        {
            // One at a time: lines appear in the order the events were published.
            endpoint.ConcurrentMessageLimit = 1;
            endpoint.Handler<TaskPending>(context =>
            {
                report.Pending(context.Message);
                return Task.CompletedTask;
            });
            endpoint.Handler<TaskSucceeded>(async context =>
            {
                report.Succeeded(context.Message, SentAt(context));
                var saved = check.SaveTo is not { } directory
                    || await CheckSave.SaveAsync(services.GetRequiredService<ResultDownloader>(), context.Message, directory, check.Json, context.CancellationToken);
                exitCode.TrySetResult(saved ? Succeeded : NotSaved);
            });
            endpoint.Handler<TaskFailed>(context =>
            {
                report.Failed(context.Message);
                exitCode.TrySetResult(ExitCodeFor(context.Message));
                return Task.CompletedTask;
            });
            // The consumer turns every API answer into an event: a fault means the check itself broke.
            endpoint.Handler<Fault<CheckTaskResult>>(async context =>
            {
                await Console.Error.WriteLineAsync($"check: the check broke: {context.Message.Exceptions.FirstOrDefault()?.Message}");
                exitCode.TrySetResult(JobFailed);
            });
        });
        await events.Ready;

        // A relative deadline counts from here, not from process start: starting up is not the job's time.
        var deadline = check.DeadlineFrom(DateTimeOffset.UtcNow);
        report.Starting(check, deadline, services.GetRequiredService<IOptions<AILabToolsOptions>>().Value.BaseUrl);
        var queue = await bus.GetSendEndpoint(new Uri($"queue:{CheckTaskResultConsumerDefinition.QueueName}"));
        await queue.Send(new CheckTaskResult { JobId = check.JobId, TaskType = check.TaskType, Deadline = deadline });

        var result = await exitCode.Task;
        await events.StopAsync();
        return result;
    }

    private static DateTimeOffset SentAt(ConsumeContext context) =>
        context.SentTime is { } sent ? new DateTimeOffset(DateTime.SpecifyKind(sent, DateTimeKind.Utc)) : DateTimeOffset.UtcNow;

    private static int ExitCodeFor(TaskFailed failed) => failed.Reason switch
    {
        FailureReasons.DeadlineExceeded => DeadlinePassed,
        FailureReasons.InvalidCommand => UsageOrConfigurationError,
        _ => JobFailed,
    };

    /// <summary>The service's registrations on the in-memory bus, whatever MessageBus:Transport says elsewhere.</summary>
    private static IHost BuildHost()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            // Unlike the service, in every environment: this is the developer's tool, and the key a developer keeps there.
            .AddUserSecrets(typeof(CheckCommand).Assembly, optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection([new($"{MessageBusOptions.Section}:{nameof(MessageBusOptions.Transport)}", nameof(BusTransport.InMemory))]);

        // stdout carries the report (and --json) only: no host or MassTransit chatter; warnings and errors go to stderr.
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddSimpleConsole(console => console.SingleLine = true);
        builder.Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);

        builder.AddTaskResults();
        // MassTransit reports usage to its vendor in the background; a one-shot check (often offline) does without.
        builder.Services.Configure<UsageTelemetryOptions>(telemetry => telemetry.Enabled = false);
        return builder.Build();
    }
}
