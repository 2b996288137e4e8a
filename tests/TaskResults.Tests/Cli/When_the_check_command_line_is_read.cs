using TaskResults.Service.Cli;

namespace TaskResults.Tests.Cli;

/// <summary>The check command's arguments, read without starting a process: what each means, and the one line for each it refuses.</summary>
public sealed class When_the_check_command_line_is_read
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 17, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Every_option_is_read_in_either_spelling_and_a_job_id_may_be_spelled_check()
    {
        var check = Read("check", "check", "--type=ASYNC_TASK", "--deadline", "90s", "--json");

        Assert.Equal(new CheckArguments("check", "ASYNC_TASK", null, TimeSpan.FromSeconds(90), true), check);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("1.5m", 90)]
    [InlineData("1h", 3600)]
    [InlineData("PT2M", 120)]
    [InlineData("P1D", 86_400)]
    public void A_duration_counts_from_the_first_check(string deadline, int seconds)
    {
        var check = Read("check", "job-1", "--type", "ASYNC_TASK", "--deadline", deadline);

        Assert.Equal(Now.AddMinutes(1).AddSeconds(seconds), check.DeadlineFrom(Now.AddMinutes(1)));
    }

    [Theory]
    [InlineData("2026-11-24T18:00:00Z", "2026-11-24T18:00:00+00:00")]
    [InlineData("2026-11-24T18:00", "2026-11-24T18:00:00+00:00")]
    [InlineData("2026-11-24T19:00:00+01:00", "2026-11-24T18:00:00+00:00")]
    // Later than any Polling:MaxDeadline: the consumer caps it, as it caps any command's deadline.
    [InlineData("9999-12-31T23:59:59Z", "9999-12-31T23:59:59+00:00")]
    public void A_time_is_UTC_unless_it_names_an_offset(string deadline, string expected)
    {
        var check = Read("check", "job-1", "--type", "ASYNC_TASK", "--deadline", deadline);

        Assert.Equal(DateTimeOffset.Parse(expected), check.DeadlineFrom(Now));
    }

    [Fact]
    public void Without_a_deadline_the_configured_default_applies()
    {
        Assert.Null(Read("check", "job-1", "--type", "ASYNC_TASK").DeadlineFrom(Now));
    }

    [Fact]
    public void A_duration_that_ends_past_the_last_representable_time_from_a_later_start_ends_there()
    {
        var check = new CheckArguments("job-1", "ASYNC_TASK", null, DateTimeOffset.MaxValue - Now, false);

        Assert.Equal(DateTimeOffset.MaxValue, check.DeadlineFrom(Now.AddSeconds(1)));
    }

    [Theory]
    [InlineData("", "a job id is required.")]
    [InlineData("job-1", "--type is required: HD_COLOUR_MIGRATION, GENERATE_CARTOONIZED_IMAGE, ASYNC_TASK.")]
    [InlineData("job-1 --type", "--type needs a value.")]
    [InlineData("job-1 --type --json", "--type needs a value.")]
    [InlineData("job-1 --type X --deadline", "--deadline needs a value.")]
    [InlineData("job-1 job-2 --type X", "one job id at a time ('job-1' and 'job-2' given).")]
    [InlineData("job-1 --type X --api-key secret", "unknown option --api-key.")]
    [InlineData("-x --type X", "unknown option -x.")]
    [InlineData("job-1 --type X -?", "unknown option -?.")]
    [InlineData("job-1 --type A --type B", "--type is given more than once.")]
    [InlineData("job-1 --type X --deadline 1m --deadline 2m", "--deadline is given more than once.")]
    [InlineData("job-1 --type X --json --json", "--json is given more than once.")]
    [InlineData("job-1 --type X --deadline tomorrow", "--deadline tomorrow is neither a time (2026-11-24T18:00:00Z) nor a duration (90s, 5m, 1h, PT2M).")]
    [InlineData("job-1 --type X --deadline 9999-12-31T23:59:59-01:00", "--deadline 9999-12-31T23:59:59-01:00 is neither a time")]
    [InlineData("job-1 --type X --deadline 1e9s", "--deadline 1e9s is neither a time")]
    [InlineData("job-1 --type X --deadline -5m", "--deadline -5m is not a positive duration.")]
    [InlineData("job-1 --type X --deadline -PT5M", "--deadline -PT5M is not a positive duration.")]
    [InlineData("job-1 --type X --deadline 0s", "--deadline 0s is not a positive duration.")]
    [InlineData("job-1 --type X --deadline PT0S", "--deadline PT0S is not a positive duration.")]
    [InlineData("job-1 --type X --deadline 2026-11-24T17:00:00Z", "--deadline 2026-11-24T17:00:00Z has passed (it is 2026-11-24T17:00:00Z now).")]
    [InlineData("job-1 --type X --deadline 0001-01-01T00:00:00Z", "--deadline 0001-01-01T00:00:00Z has passed")]
    [InlineData("job-1 --type X --deadline 99999999999h", "--deadline 99999999999h is too far off to count; no check runs longer than Polling:MaxDeadline (default 24h) anyway.")]
    [InlineData("job-1 --type X --deadline 9223372036854775807s", "--deadline 9223372036854775807s is too far off")]
    [InlineData("job-1 --type X --deadline P99999999Y", "--deadline P99999999Y is too far off")]
    [InlineData("job-1 --type X --deadline PT99999999999H", "--deadline PT99999999999H is too far off")]
    [InlineData("job-1 --type X --deadline P10000000D", "--deadline P10000000D is too far off")]
    [InlineData("job-1 --type X --deadline P1YT", "--deadline P1YT is neither a time")]
    // Digits other than 0-9 (full-width, Arabic-Indic): \d would take them, the number parser would throw.
    [InlineData("job-1 --type X --deadline \uFF15m", "--deadline \uFF15m is neither a time")]
    [InlineData("job-1 --type X --deadline PT\u0665M", "--deadline PT\u0665M is neither a time")]
    public void A_command_line_it_cannot_use_is_refused_with_what_is_wrong(string commandLine, string problem)
    {
        var refused = Assert.Throws<UsageException>(() => Read(["check", .. commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)]));

        Assert.StartsWith(problem, refused.Message);
    }

    [Theory]
    [InlineData("", "JobId is empty.")]
    [InlineData(" ", "JobId is empty.")]
    [InlineData("job 1", "JobId contains white space or control characters.")]
    [InlineData("job\u00071", "JobId contains white space or control characters.")]
    public void A_job_id_no_API_hands_out_is_refused_before_anything_starts(string jobId, string problem)
    {
        var refused = Assert.Throws<UsageException>(() => Read("check", jobId, "--type", "ASYNC_TASK"));

        Assert.Equal(problem, refused.Message);
    }

    [Fact]
    public void A_huge_value_is_quoted_in_part_only()
    {
        var huge = new string('9', 100_000);

        var tooLong = Assert.Throws<UsageException>(() => Read("check", new string('j', 100_000), "--type", "ASYNC_TASK"));
        var tooFar = Assert.Throws<UsageException>(() => Read("check", "job-1", "--type", "ASYNC_TASK", "--deadline", huge + "s"));
        var unknown = Assert.Throws<UsageException>(() => Read("check", "job-1", "--type", "ASYNC_TASK", "--" + huge));

        Assert.Equal("JobId is 100000 characters long; at most 256 are allowed.", tooLong.Message);
        Assert.All(new[] { tooFar, unknown }, refused => Assert.InRange(refused.Message.Length, 1, 199));
        Assert.StartsWith($"--deadline {huge[..40]}… is too far off", tooFar.Message);
    }

    [Theory]
    [InlineData("check", "--help")]
    [InlineData("check", "-h")]
    [InlineData("check", "job-1", "--bogus", "--deadline", "99999999999h", "-h")]
    public void Help_is_asked_for_wherever_it_stands_and_whatever_else_is_wrong(params string[] args)
    {
        Assert.True(CheckCommandLine.AsksForHelp(CheckCommandLine.Parse(args)));
    }

    [Fact]
    public void Help_lists_the_arguments_and_options_then_the_key_and_the_exit_codes()
    {
        var output = new StringWriter();

        CheckCommandLine.WriteHelp(CheckCommandLine.Parse(["check", "--help"]), output);

        var help = output.ToString();
        Assert.Contains("TaskResults.Service check <job-id> [options]", help);
        Assert.Contains("<job-id>  the request_id the async API returned", help);
        Assert.Contains("-h, --help ", help);
        Assert.DoesNotContain("-?", help);
        Assert.True(help.IndexOf("--json", StringComparison.Ordinal) < help.IndexOf("AILabTools__ApiKey=<key>", StringComparison.Ordinal), help);
        Assert.EndsWith("results, 130 interrupted (Ctrl+C).", help.TrimEnd());
    }

    private static CheckArguments Read(params string[] args) => CheckCommandLine.Read(CheckCommandLine.Parse(args), Now);
}
