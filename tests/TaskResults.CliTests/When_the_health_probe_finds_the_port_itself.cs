namespace TaskResults.CliTests;

/// <summary>
/// <c>health</c> without a URL (the image's HEALTHCHECK) asks <c>/health/ready</c> where the service's
/// own configuration says it listens, in whichever standard spelling that is set. One service, on every
/// interface, answers all of them: live, never ready, so a probe that reached it prints 503, and one that
/// did not prints "not reached".
/// </summary>
public sealed class When_the_health_probe_finds_the_port_itself(ServiceOnEveryInterface service) : IClassFixture<ServiceOnEveryInterface>
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("ASPNETCORE_HTTP_PORTS", "{0}")]
    [InlineData("HTTP_PORTS", "{0}")]
    [InlineData("ASPNETCORE_URLS", "http://+:{0}")]
    [InlineData("ASPNETCORE_URLS", "http://0.0.0.0:{0}")]
    [InlineData("ASPNETCORE_URLS", "http://[::]:{0}")]
    [InlineData("URLS", "http://*:{0}")]
    [InlineData("Urls", "http://127.0.0.1:{0}")]
    public async Task It_asks_the_configured_port_on_this_machine(string variable, string value)
    {
        var (exitCode, output) = await Probe(new Dictionary<string, string> { [variable] = string.Format(value, service.Port) });

        Assert.True(exitCode == 1, output);
        Assert.Equal($"http://127.0.0.1:{service.Port}/health/ready: 503 Service Unavailable", output);
    }

    [Fact]
    public async Task A_URL_given_on_the_command_line_wins()
    {
        var (exitCode, output) = await Probe(new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = "1" }, $"http://127.0.0.1:{service.Port}/health/live");

        Assert.True(exitCode == 0, output);
        Assert.Equal($"http://127.0.0.1:{service.Port}/health/live: 200 OK", output);
    }

    [Fact]
    public async Task A_port_nothing_listens_on_is_not_reached_rather_than_not_ready()
    {
        var (exitCode, output) = await Probe(new Dictionary<string, string> { ["ASPNETCORE_URLS"] = "http://127.0.0.1:1" });

        Assert.True(exitCode == 1, output);
        Assert.StartsWith("http://127.0.0.1:1/health/ready: not reached (", output);
    }

    [Fact]
    public async Task Port_0_names_no_port_to_ask_and_it_says_so()
    {
        var (exitCode, output) = await Probe(new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = "0" });

        Assert.True(exitCode == 1, output);
        Assert.StartsWith("Cannot tell where the service listens: ASPNETCORE_HTTP_PORTS (or HTTP_PORTS) asks for port 0", output);
    }

    private static async Task<(int ExitCode, string Output)> Probe(IReadOnlyDictionary<string, string> listening, params string[] url)
    {
        await using var probe = DotnetProcess.Start("TaskResults.Service", ["health", .. url], UnreadyService.Environment(listening));
        var exitCode = await probe.WaitForExit(ProbeTimeout);
        return (exitCode, string.Join('\n', probe.Stdout.Concat(probe.Stderr)));
    }
}
