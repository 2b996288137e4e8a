using System.Diagnostics;
using TaskResults.IntegrationTests.Support;

namespace TaskResults.IntegrationTests;

public sealed class When_the_configuration_is_incomplete
{
    [Theory]
    [InlineData("AILabTools__ApiKey", "", "AILabTools:ApiKey is not set")]
    [InlineData("MessageBus__Transport", "Kafka", "MessageBus:Transport")]
    [InlineData("Polling__Interval", "soon", "Polling:Interval")]
    [InlineData("ConnectionStrings__RabbitMq", "amqp://u:p@h1/a,amqp://u:other@h2/a", "must share scheme, user, password and virtual host")]
    [InlineData("ConnectionStrings__RabbitMq", "amqp://u:p@h1:notaport,h2/", "host[:port]")]
    [InlineData("MessageBus__CommandQueue", "Stream", "MessageBus:CommandQueue")]
    public async Task Should_stop_with_one_clear_line_and_exit_code_2(string key, string value, string expected)
    {
        var start = ProgramStart.For("TaskResults.Service", [], new Dictionary<string, string>
        {
            ["AILabTools__ApiKey"] = "a-key-that-is-set",
            ["Urls"] = "http://127.0.0.1:0",
            [key] = value,
        });

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "The service did not stop.");

        Assert.Equal(2, process.ExitCode);
        var line = Assert.Single((await errors).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", await output + line, StringComparison.Ordinal);
    }
}
