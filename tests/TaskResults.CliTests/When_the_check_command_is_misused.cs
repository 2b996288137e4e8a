namespace TaskResults.CliTests;

/// <summary>Usage and configuration errors: exit code 2 and one clear line, before any API call.</summary>
public sealed class When_the_check_command_is_misused
{
    // Nothing listens there: none of these runs may reach an API.
    private static readonly Dictionary<string, string> Configured = new()
    {
        ["AILabTools__BaseUrl"] = "http://127.0.0.1:9",
        ["AILabTools__ApiKey"] = Simulator.ApiKey,
    };

    [Fact]
    public async Task Without_an_API_key_it_says_so_in_one_line_on_stderr_and_exits_2()
    {
        // Empty, not absent: it also hides a key the developer keeps in user secrets.
        var run = await Check.Run(new Dictionary<string, string>(Configured) { ["AILabTools__ApiKey"] = "" }, "job-1", "--type", "HD_COLOUR_MIGRATION");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Empty(run.Stdout);
        var line = Assert.Single(run.Stderr);
        Assert.StartsWith("TaskResults cannot start: ", line);
        Assert.Contains("AILabTools:ApiKey is not set (environment variable AILabTools__ApiKey)", line);
    }

    [Fact]
    public async Task An_unknown_task_type_is_an_invalid_command_and_exits_2()
    {
        var run = await Check.Run(Configured, "job-1", "--type", "HD_COLOR_MIGRATION");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Equal("failed: INVALID_COMMAND: TaskType must be one of HD_COLOUR_MIGRATION, GENERATE_CARTOONIZED_IMAGE, ASYNC_TASK.", run.Stdout[^1]);
    }

    [Theory]
    [InlineData("", "a job id is required.")]
    [InlineData("job-1", "--type is required")]
    [InlineData("job-1 --type", "--type needs a value.")]
    [InlineData("job-1 job-2 --type HD_COLOUR_MIGRATION", "one job id at a time")]
    [InlineData("job-1 --type HD_COLOUR_MIGRATION --deadline tomorrow", "--deadline tomorrow is neither a time")]
    [InlineData("job-1 --type HD_COLOUR_MIGRATION --api-key secret", "unknown option --api-key.")]
    public async Task A_command_line_it_cannot_use_gets_one_line_on_stderr_and_exit_code_2(string commandLine, string problem)
    {
        var run = await Check.Run(Configured, commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Empty(run.Stdout);
        var line = Assert.Single(run.Stderr);
        Assert.StartsWith("check: ", line);
        Assert.Contains(problem, line);
    }

    [Fact]
    public async Task Help_documents_the_arguments_the_key_and_the_exit_codes_and_exits_0()
    {
        var run = await Check.Run(new Dictionary<string, string>(), "--help");

        Assert.True(run.ExitCode == 0, run.ToString());
        var help = string.Join('\n', run.Stdout);
        // System.CommandLine's layout: a "Usage:" section, and the options listed below it, not in its line.
        Assert.Contains("Usage:\n  TaskResults.Service check <job-id> [options]\n", help);
        Assert.Matches(@"\n  --type <type> .*HD_COLOUR_MIGRATION", help);
        Assert.Contains("\n  --deadline <when> ", help);
        Assert.Contains("\n  --json ", help);
        Assert.Contains("AILabTools__ApiKey", help);
        Assert.Contains("Exit codes: 0 succeeded, 1 the job failed, 2 usage or configuration error", help);
        Assert.Empty(run.Stderr);
    }
}
