using Microsoft.Extensions.Options;
using TaskResults.Service.Options;

namespace TaskResults.Service.Extensions;

public static class HostRunExtensions
{
    /// <summary>Exit code for a configuration the service cannot start with.</summary>
    public const int ConfigurationError = 2;

    /// <summary>
    /// Writes the effective configuration (secrets redacted) to the log, then runs until stopped.
    /// Returns 0 after a graceful stop (SIGTERM), or the code the service stopped itself with (BusSupervisor.ExitCode).
    /// </summary>
    public static async Task<int> RunWithConfigurationLineAsync(this WebApplication app)
    {
        LogEffectiveConfiguration(app);
        await app.RunAsync();
        return Environment.ExitCode;
    }

    /// <summary>
    /// Binds and validates every option; on a bad one writes one line on stderr and returns false,
    /// so a bad configuration stops the service with one clear line instead of a stack trace.
    /// </summary>
    public static async Task<bool> ValidateOptionsAsync(this IServiceProvider services)
    {
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
            return true;
        }
        catch (OptionsValidationException exception)
        {
            await Console.Error.WriteLineAsync($"TaskResults cannot start: {string.Join(" ", exception.Failures)}");
            return false;
        }
        catch (InvalidOperationException exception) when (exception.InnerException is FormatException)
        {
            // A value the binder cannot convert (Polling:Interval=abc): its message names key and value.
            await Console.Error.WriteLineAsync($"TaskResults cannot start: {exception.Message}");
            return false;
        }
    }

    // What the service runs with, secrets redacted: the options' ToString never shows the key or the broker password.
    private static void LogEffectiveConfiguration(WebApplication app)
    {
        var bus = app.Services.GetRequiredService<IOptions<MessageBusOptions>>().Value;
        app.Logger.LogInformation("TaskResults starting. AILabTools: {Api}. Polling: {Polling}. Bus: {Transport} {Broker}, {Rescheduling}. Registry: {Registry}. Jobs endpoints: {Admin}",
            app.Services.GetRequiredService<IOptions<AILabToolsOptions>>().Value.ToString(),
            app.Services.GetRequiredService<IOptions<PollingOptions>>().Value.ToString(),
            bus.Transport, bus.Transport == BusTransport.RabbitMq ? bus.RabbitMqForLogs : "", bus.Rescheduling,
            app.Services.GetRequiredService<IOptions<Registry.RegistryOptions>>().Value.ToString(),
            app.Services.GetRequiredService<IOptions<Admin.AdminOptions>>().Value.ToString());
    }
}
