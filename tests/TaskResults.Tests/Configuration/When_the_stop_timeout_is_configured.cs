using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TaskResults.Service.Extensions;

namespace TaskResults.Tests.Configuration;

public sealed class When_the_stop_timeout_is_configured
{
    [Theory]
    [InlineData(null, 30)] // the default 15 s and its margin fit in the host's own 30 s
    [InlineData("00:00:01", 30)]
    [InlineData("00:01:00", 70)] // beyond 30 s the host would cancel the stop early: it waits for MessageBus:StopTimeout and the margin
    public void Should_let_the_host_wait_for_the_whole_stop(string? stopTimeout, int shutdownSeconds)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:RabbitMq"] = "amqp://guest:guest@localhost:5672/",
            ["MessageBus:StopTimeout"] = stopTimeout,
        });
        builder.AddTaskResults();

        using var services = builder.Services.BuildServiceProvider();

        Assert.Equal(TimeSpan.FromSeconds(shutdownSeconds), services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }
}
