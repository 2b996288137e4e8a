namespace TaskResults.CliTests;

/// <summary>The key travels in a header: over plain http it would cross the network readable by anyone on the way.</summary>
public sealed class When_the_API_address_is_plain_http
{
    [Fact]
    public async Task A_host_other_than_this_machine_is_refused_at_start_in_one_line_with_exit_code_2()
    {
        var run = await Check.Run(new Dictionary<string, string>
        {
            ["AILabTools__BaseUrl"] = "http://api.example.invalid",
            ["AILabTools__ApiKey"] = Simulator.ApiKey,
        }, "job-1", "--type", "HD_COLOUR_MIGRATION");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Empty(run.Stdout);
        var line = Assert.Single(run.Stderr);
        Assert.StartsWith("TaskResults cannot start: ", line);
        Assert.Contains("AILabTools:BaseUrl http://api.example.invalid is http://", line);
        Assert.Contains("AILabTools:AllowInsecureHttp", line);
        Assert.DoesNotContain(Simulator.ApiKey, line);
    }
}
