namespace TaskResults.CliTests;

/// <summary>
/// Values no one means, or no clock can hold: each ends with exit code 2 and one line on stderr that
/// says what is wrong, before any API call, and never with a stack trace.
/// </summary>
public sealed class When_the_check_command_gets_absurd_values(Simulator simulator) : IClassFixture<Simulator>
{
    // Nothing listens there: none of the refused runs may reach an API.
    private static readonly Dictionary<string, string> Configured = new()
    {
        ["AILabTools__BaseUrl"] = "http://127.0.0.1:9",
        ["AILabTools__ApiKey"] = Simulator.ApiKey,
    };

    // Under Linux's 128 KiB limit on one argument, and far over any job id.
    private static readonly string HugeJobId = new('j', 100_000);

    public static TheoryData<string[], string> AbsurdCommandLines => new()
    {
        { ["job-1", "--type", "HD_COLOUR_MIGRATION", "--deadline", "99999999999h"], "--deadline 99999999999h is too far off" },
        { ["job-1", "--type", "HD_COLOUR_MIGRATION", "--deadline", new string('9', 400) + "s"], "is too far off" },
        { ["job-1", "--type", "HD_COLOUR_MIGRATION", "--deadline", "P99999999Y"], "--deadline P99999999Y is too far off" },
        { ["job-1", "--type", "HD_COLOUR_MIGRATION", "--deadline", "PT99999999999H"], "--deadline PT99999999999H is too far off" },
        // Fits a TimeSpan (27,000 years), but not when added to today.
        { ["job-1", "--type", "HD_COLOUR_MIGRATION", "--deadline", "P10000000D"], "--deadline P10000000D is too far off" },
        { ["job-1", "--type", "HD_COLOUR_MIGRATION", "--deadline", "-5m"], "--deadline -5m is not a positive duration" },
        { ["job-1", "--type", "HD_COLOUR_MIGRATION", "--deadline", "-PT5M"], "--deadline -PT5M is not a positive duration" },
        { ["job-1", "--type", "HD_COLOUR_MIGRATION", "--deadline", "0s"], "--deadline 0s is not a positive duration" },
        { ["job-1", "--type", "HD_COLOUR_MIGRATION", "--deadline", "0001-01-01T00:00:00Z"], "--deadline 0001-01-01T00:00:00Z has passed" },
        { ["job-1", "--type", "HD_COLOUR_MIGRATION", "--deadline", "2020-01-01T00:00:00Z"], "--deadline 2020-01-01T00:00:00Z has passed" },
        // Its UTC time would be in the year 10000.
        { ["job-1", "--type", "HD_COLOUR_MIGRATION", "--deadline", "9999-12-31T23:59:59-01:00"], "is neither a time" },
        { ["", "--type", "HD_COLOUR_MIGRATION"], "JobId is empty." },
        { ["job 1", "--type", "HD_COLOUR_MIGRATION"], "JobId contains white space" },
        { [HugeJobId, "--type", "HD_COLOUR_MIGRATION"], "JobId is 100000 characters long; at most 256 are allowed." },
        { ["job-1", "--type", "HD_COLOUR_MIGRATION", "--type", "ASYNC_TASK"], "--type is given more than once." },
        { ["job-1", "--type", "HD_COLOUR_MIGRATION", "--deadline", "5m", "--deadline", "1h"], "--deadline is given more than once." },
        { ["job-1", "--type", "HD_COLOUR_MIGRATION", "--json", "--json"], "--json is given more than once." },
        { ["-x", "--type", "HD_COLOUR_MIGRATION"], "unknown option -x." },
        { ["job-1", "--type", "HD_COLOUR_MIGRATION", "--" + new string('x', 100_000)], "unknown option --xxxx" },
        { ["job-1", "--type", "--json"], "--type needs a value." },
    };

    [Theory]
    [MemberData(nameof(AbsurdCommandLines))]
    public async Task Each_gets_exit_code_2_and_one_short_line_on_stderr_without_a_stack_trace(string[] commandLine, string problem)
    {
        var run = await Check.Run(Configured, commandLine);

        var output = run.ToString();
        Assert.True(run.ExitCode == 2, output[..Math.Min(output.Length, 2000)]);
        Assert.Empty(run.Stdout);
        var line = Assert.Single(run.Stderr);
        Assert.StartsWith("check: ", line);
        Assert.Contains(problem, line);
        Assert.DoesNotContain("   at ", line);
        // A value is quoted in part at most: a megabyte of argument must not come back as a megabyte of error.
        Assert.InRange(line.Length, 1, 299);
    }

    [Fact]
    public async Task A_deadline_at_the_end_of_time_is_capped_at_Polling_MaxDeadline()
    {
        var environment = new Dictionary<string, string>(Check.AgainstSimulator(simulator))
        {
            ["Polling__DefaultDeadline"] = "00:00:02",
            ["Polling__MaxDeadline"] = "00:00:03",
        };

        var run = await Check.Run(environment, Simulator.NewJobId("stuck"), "--type", "HD_COLOUR_MIGRATION", "--deadline", "9999-12-31T23:59:59Z");

        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Contains(": DEADLINE_EXCEEDED: Not finished by the deadline", run.Stdout[^1]);
    }
}
