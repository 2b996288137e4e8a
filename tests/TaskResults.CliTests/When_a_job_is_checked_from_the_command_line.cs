using System.Text.Json;

namespace TaskResults.CliTests;

public sealed class When_a_job_is_checked_from_the_command_line(Simulator simulator) : IClassFixture<Simulator>
{
    private readonly Dictionary<string, string> _environment = Check.AgainstSimulator(simulator);

    [Fact]
    public async Task A_job_that_succeeds_shows_each_pending_check_then_the_result_URL_and_its_expiry_and_exits_0()
    {
        var jobId = Simulator.NewJobId("demo");

        var run = await Check.Run(_environment, jobId, "--type", "GENERATE_CARTOONIZED_IMAGE");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"checking {jobId} (GENERATE_CARTOONIZED_IMAGE) at {simulator.BaseUrl}", run.Stdout[0]);
        var pending = run.Stdout.Skip(1).TakeWhile(line => line.StartsWith("attempt ")).ToList();
        for (var i = 0; i < pending.Count; i++) Assert.Matches($@"^attempt {i + 1}: (QUEUING|PROCESSING), next check in [0-9.]+s$", pending[i]);
        Assert.Contains(pending, line => line.Contains(": QUEUING,"));
        Assert.Contains(pending, line => line.Contains(": PROCESSING,"));

        var result = run.Stdout.Skip(1 + pending.Count).ToList();
        Assert.Equal(3, result.Count);
        Assert.Equal($"succeeded after {pending.Count + 1} attempts", result[0]);
        Assert.Equal($"  {simulator.BaseUrl}/results/{jobId}.png", result[1]);
        Assert.Matches(@"^results expire at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(in 24h\)$", result[2]);
    }

    [Fact]
    public async Task A_succeeded_job_s_results_are_saved_with_save_and_their_paths_printed()
    {
        var jobId = Simulator.NewJobId("demo");
        var directory = Path.Combine(Path.GetTempPath(), "taskresults-save-" + Guid.NewGuid().ToString("N"));
        var environment = new Dictionary<string, string>(_environment) { ["Archive__AllowedHosts__0"] = "127.0.0.1" };
        try
        {
            var run = await Check.Run(environment, jobId, "--type", "GENERATE_CARTOONIZED_IMAGE", "--save", directory);

            Assert.True(run.ExitCode == 0, run.ToString());
            var saved = Path.Combine(directory, $"{jobId}-1.png");
            Assert.Equal($"saved {saved} ({new FileInfo(saved).Length:N0} bytes)", run.Stdout[^1]);
            using var http = new HttpClient();
            Assert.Equal(await http.GetByteArrayAsync($"{simulator.BaseUrl}/results/{jobId}.png"), await File.ReadAllBytesAsync(saved));
            Assert.Contains(run.Stderr, line => line.Contains($"{jobId} 1/1 [") && line.Contains("B/s"));
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Results_from_a_host_off_the_allowed_list_are_not_saved_and_it_exits_4()
    {
        var directory = Path.Combine(Path.GetTempPath(), "taskresults-save-" + Guid.NewGuid().ToString("N"));

        // The simulator serves its files from 127.0.0.1, which the default list (the vendor's domains) does not hold.
        var run = await Check.Run(_environment, Simulator.NewJobId("demo"), "--type", "GENERATE_CARTOONIZED_IMAGE", "--save", directory);

        Assert.True(run.ExitCode == 4, run.ToString());
        Assert.Contains(run.Stderr, line => line.Contains("not saved: NOT_ALLOWED"));
        Assert.False(Directory.Exists(directory) && Directory.EnumerateFiles(directory).Any());
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Results_that_cannot_be_written_where_save_says_exit_4_at_once()
    {
        var notADirectory = Path.GetTempFileName();
        var environment = new Dictionary<string, string>(_environment) { ["Archive__AllowedHosts__0"] = "127.0.0.1" };
        try
        {
            var run = await Check.Run(environment, Simulator.NewJobId("demo"), "--type", "GENERATE_CARTOONIZED_IMAGE", "--save", notADirectory);

            Assert.True(run.ExitCode == 4, run.ToString());
            Assert.Contains(run.Stderr, line => line.StartsWith($"check: results not saved in {notADirectory}"));
        }
        finally
        {
            File.Delete(notADirectory);
        }
    }

    [Fact]
    public async Task A_job_that_fails_shows_the_reason_and_exits_1()
    {
        var run = await Check.Run(_environment, Simulator.NewJobId("fail"), "--type", "HD_COLOUR_MIGRATION");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains(run.Stdout, line => line.StartsWith("attempt 1: QUEUING"));
        Assert.Contains(run.Stdout, line => line.StartsWith("failed after ") && line.Contains(": PROCESS_FAILED: The API reported status PROCESS_FAILED."));
        Assert.Matches("^request_id [0-9a-f]+, log_id [0-9a-f]+ ", run.Stdout[^1]);
    }

    [Fact]
    public async Task An_account_without_credits_fails_at_once_with_the_API_s_code_and_exits_1()
    {
        var run = await Check.Run(_environment, Simulator.NewJobId("nocredits"), "--type", "HD_COLOUR_MIGRATION");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("failed after 1 attempt: API_ERROR ERROR_NOT_ENOUGH_CREDITS (HTTP 429): Not enough credits.", run.Stdout);
        Assert.DoesNotContain(run.Stdout, line => line.StartsWith("attempt "));
    }

    [Fact]
    public async Task A_job_still_running_at_the_deadline_stops_there_and_exits_3()
    {
        var run = await Check.Run(_environment, Simulator.NewJobId("stuck"), "--type", "HD_COLOUR_MIGRATION", "--deadline", "3s");

        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Contains(run.Stdout, line => line.StartsWith("attempt 1: QUEUING, next check in "));
        Assert.StartsWith("failed after ", run.Stdout[^1]);
        Assert.Contains(": DEADLINE_EXCEEDED: Not finished by the deadline", run.Stdout[^1]);
    }

    [Fact]
    public async Task With_json_every_line_is_one_event_in_the_order_published()
    {
        var jobId = Simulator.NewJobId("demo");

        var run = await Check.Run(_environment, jobId, "--type", "HD_COLOUR_MIGRATION", "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        var events = run.Stdout.Select(line => JsonDocument.Parse(line).RootElement).ToList();
        var names = events.Select(e => e.GetProperty("event").GetString()).ToList();
        Assert.Equal([.. Enumerable.Repeat("TaskPending", events.Count - 1), "TaskSucceeded"], names);
        Assert.True(events.Count >= 3, run.ToString());
        Assert.Equal(Enumerable.Range(1, events.Count - 1), events.SkipLast(1).Select(e => e.GetProperty("attempt").GetInt32()));
        Assert.All(events, e => Assert.Equal(jobId, e.GetProperty("jobId").GetString()));

        var succeeded = events[^1];
        Assert.Equal(events.Count, succeeded.GetProperty("attempts").GetInt32());
        Assert.Equal($"{simulator.BaseUrl}/results/{jobId}.png", Assert.Single(succeeded.GetProperty("resultUrls").EnumerateArray()).GetString());
        Assert.True(succeeded.GetProperty("resultsExpireAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddHours(23));
    }

    [Fact]
    public async Task Ctrl_C_stops_the_check_cleanly_with_exit_code_130()
    {
        await using var check = Check.Start(_environment, Simulator.NewJobId("stuck"), "--type", "HD_COLOUR_MIGRATION");
        await check.WaitForLine(line => line.StartsWith("attempt 1:"), Check.Timeout);

        // A test run started in the background (nohup, '&' without job control) passes its children
        // an ignored SIGINT, which .NET leaves ignored; SIGTERM takes the same way out then.
        await check.Signal(IgnoresSigint(check.Id) ? "TERM" : "INT");

        Assert.Equal(130, await check.WaitForExit(TimeSpan.FromSeconds(15)));
        Assert.Contains("check: interrupted.", check.Stderr);
    }

    private static bool IgnoresSigint(int pid)
    {
        var ignored = File.ReadLines($"/proc/{pid}/status").First(line => line.StartsWith("SigIgn:"))["SigIgn:".Length..].Trim();
        const ulong sigint = 1UL << (2 - 1);
        return (Convert.ToUInt64(ignored, 16) & sigint) != 0;
    }
}
