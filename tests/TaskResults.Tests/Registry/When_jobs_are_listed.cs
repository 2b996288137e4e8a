using TaskResults.Service.Registry;
using TaskResults.Service.Scheduling;

namespace TaskResults.Tests.Registry;

/// <summary>
/// Listing jobs by state (issue 14): newest activity first, a page at a time, one task type alone, a finished
/// job in its state's list, a job the store has forgotten in none. The same over the in-memory store and Redis.
/// </summary>
public sealed class When_jobs_are_listed(RedisServer redis) : IClassFixture<RedisServer>
{
    private readonly RegistryStores _stores = new(redis);

    private DateTimeOffset Now => _stores.Clock.GetUtcNow();

    private async Task<ChainLink> Start(JobChains chains, JobKey job)
    {
        var link = ((ChainStep.Check)await chains.BeginAsync(job, _stores.Delivery(), RegistryStores.NewSender(), Now, default)).Link!;
        _stores.Clock.Advance(TimeSpan.FromSeconds(1));
        return link;
    }

    private static async Task<string[]> Listed(JobChains chains, JobQuery query)
    {
        var (available, page) = await chains.ListAsync(query, default);
        Assert.True(available);
        return [.. page.Jobs.Select(listed => listed.Job.JobId)];
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_list_the_pending_jobs_newest_activity_first_a_page_at_a_time(RegistryStore store)
    {
        var chains = _stores.Chains(store);
        var a = new JobKey(TaskTypes.HdColourMigration, "list-a");
        var first = await Start(chains, a);
        await Start(chains, a with { JobId = "list-b" });
        await Start(chains, a with { JobId = "list-c" });
        // a is checked again: the newest activity.
        await chains.AdvanceAsync(a, first with { Seen = null }, _stores.Pending(attempts: 1), default);

        var (_, page1) = await chains.ListAsync(new JobQuery(JobState.Pending, null, Limit: 2), default);
        Assert.Equal(["list-a", "list-c"], page1.Jobs.Select(listed => listed.Job.JobId));
        Assert.Equal((a, 1, "QUEUING"), (page1.Jobs[0].Job, page1.Jobs[0].Record.Attempts, page1.Jobs[0].Record.LastStatus));
        Assert.NotNull(page1.Next);

        var (_, page2) = await chains.ListAsync(new JobQuery(JobState.Pending, null, Limit: 2, page1.Next), default);
        Assert.Equal(["list-b"], page2.Jobs.Select(listed => listed.Job.JobId));
        Assert.Null(page2.Next);
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_skip_no_job_that_stayed_put_when_others_finish_between_pages(RegistryStore store)
    {
        var chains = _stores.Chains(store);
        var oldest = new JobKey(TaskTypes.HdColourMigration, "moving-1");
        await Start(chains, oldest);
        await Start(chains, oldest with { JobId = "moving-2" });
        var newest = oldest with { JobId = "moving-3" };
        var step = await Start(chains, newest);

        var (_, page1) = await chains.ListAsync(new JobQuery(JobState.Pending, null, Limit: 2), default);
        Assert.Equal(["moving-3", "moving-2"], page1.Jobs.Select(listed => listed.Job.JobId));
        // The newest finishes before the next page is asked for: the page after it still starts after moving-2.
        await chains.FinishAsync(newest, step, new JobEnd(new TaskSucceeded { JobId = newest.JobId, TaskType = newest.TaskType }, null), 1, default);

        var (_, page2) = await chains.ListAsync(new JobQuery(JobState.Pending, null, Limit: 2, page1.Next), default);
        Assert.Equal(["moving-1"], page2.Jobs.Select(listed => listed.Job.JobId));
        Assert.Null(page2.Next);
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_page_through_jobs_of_the_same_moment_one_by_one(RegistryStore store)
    {
        var chains = _stores.Chains(store);
        string[] ids = ["same-a", "same-b", "same-c", "same-d", "same-e"];
        foreach (var id in ids)
            await chains.BeginAsync(new JobKey(TaskTypes.HdColourMigration, id), _stores.Delivery(), RegistryStores.NewSender(), Now, default);

        var seen = new List<string>();
        JobCursor? after = null;
        for (var pages = 0; pages < 10; pages++)
        {
            var (_, page) = await chains.ListAsync(new JobQuery(JobState.Pending, null, Limit: 2, after), default);
            seen.AddRange(page.Jobs.Select(listed => listed.Job.JobId));
            if ((after = page.Next) is null) break;
        }

        Assert.Equal(ids.Reverse(), seen);
        Assert.Equal(after, after is null ? null : JobCursor.Parse(after.ToString()));
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_keep_listing_a_cancelled_job_as_long_as_it_is_kept(RegistryStore store)
    {
        var chains = _stores.Chains(store);
        var first = new JobKey(TaskTypes.HdColourMigration, "cancelled-early");
        // A five-hour deadline: the cancelled record is kept until then and the retention, past the retention after the cancel.
        var longDeadline = new CheckProgress(1, Now, Now + TimeSpan.FromHours(5), 0);
        await chains.BeginAsync(first, longDeadline, RegistryStores.NewSender(), Now, default);
        await chains.CancelAsync(first, new TaskFailed { JobId = first.JobId, TaskType = first.TaskType, Reason = FailureReasons.Cancelled }, default);
        _stores.Clock.Advance(TimeSpan.FromHours(2));
        var second = first with { JobId = "cancelled-late" };
        await chains.BeginAsync(second, _stores.Delivery(), RegistryStores.NewSender(), Now, default);
        await chains.CancelAsync(second, new TaskFailed { JobId = second.JobId, TaskType = second.TaskType, Reason = FailureReasons.Cancelled }, default);

        Assert.Equal(JobState.Cancelled, (await chains.StatusAsync(first, default)).Record!.State);
        Assert.Equal(["cancelled-late", "cancelled-early"], await Listed(chains, new JobQuery(JobState.Cancelled, null, 10)));
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_list_one_task_type_alone(RegistryStore store)
    {
        var chains = _stores.Chains(store);
        await Start(chains, new JobKey(TaskTypes.HdColourMigration, "typed-hd"));
        await Start(chains, new JobKey(TaskTypes.AsyncTask, "typed-async"));

        Assert.Equal(["typed-async"], await Listed(chains, new JobQuery(JobState.Pending, TaskTypes.AsyncTask, 10)));
        Assert.Equal(["typed-async", "typed-hd"], await Listed(chains, new JobQuery(JobState.Pending, null, 10)));
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_list_a_finished_job_in_its_states_list_only(RegistryStore store)
    {
        var chains = _stores.Chains(store);
        var done = new JobKey(TaskTypes.HdColourMigration, "finished-done");
        var stopped = done with { JobId = "finished-stopped" };
        var step = await Start(chains, done);
        await Start(chains, stopped);
        await Start(chains, done with { JobId = "finished-waiting" });

        Assert.True(await chains.FinishAsync(done, step, new JobEnd(new TaskSucceeded { JobId = done.JobId, TaskType = done.TaskType }, null), 1, default));
        await chains.CancelAsync(stopped, new TaskFailed { JobId = stopped.JobId, TaskType = stopped.TaskType, Reason = FailureReasons.Cancelled }, default);

        Assert.Equal(["finished-waiting"], await Listed(chains, new JobQuery(JobState.Pending, null, 10)));
        Assert.Equal(["finished-done"], await Listed(chains, new JobQuery(JobState.Succeeded, TaskTypes.HdColourMigration, 10)));
        Assert.Equal(["finished-stopped"], await Listed(chains, new JobQuery(JobState.Cancelled, null, 10)));
        Assert.Empty(await Listed(chains, new JobQuery(JobState.Failed, null, 10)));
        var succeeded = (await chains.StatusAsync(done, default)).Record!;
        Assert.Equal(("SUCCESS", TaskStates.Succeeded), (succeeded.Checks[^1].Status, succeeded.Checks[^1].State));
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_leave_a_forgotten_job_out_of_the_list(RegistryStore store)
    {
        var prefix = "spec-" + Guid.NewGuid().ToString("N");
        var chains = _stores.Chains(store, options => options.KeyPrefix = prefix);
        var gone = new JobKey(TaskTypes.HdColourMigration, "forgotten-gone");
        await Start(chains, gone);
        _stores.Clock.Advance(TimeSpan.FromHours(2));
        await Start(chains, gone with { JobId = "forgotten-kept" });

        // Forgotten: past its deadline and the retention here; in Redis, its key expired (deleted, not waited for).
        _stores.Clock.Advance(TimeSpan.FromMinutes(45));
        if (store == RegistryStore.Redis) await redis.CliAsync("DEL", $"{prefix}:job:{gone.TaskType}:{gone.JobId}");

        Assert.Equal(["forgotten-kept"], await Listed(chains, new JobQuery(JobState.Pending, null, 10)));
        // A page as long as what is left: the last, though the forgotten job was still in the set when it was asked.
        Assert.Null((await chains.ListAsync(new JobQuery(JobState.Pending, null, 1), default)).Page.Next);
        if (store == RegistryStore.Redis) Assert.Equal("1", (await redis.CliAsync("ZCARD", $"{prefix}:jobs:Pending")).Trim());
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_keep_the_last_ten_checks_of_a_job(RegistryStore store)
    {
        var chains = _stores.Chains(store);
        var job = new JobKey(TaskTypes.HdColourMigration, "checked-often");
        var link = await Start(chains, job);
        for (var attempt = 1; attempt <= 12; attempt++)
        {
            var (_, next) = await chains.AdvanceAsync(job, link with { Seen = null }, _stores.Pending(attempts: attempt), default);
            link = next!;
        }

        var checks = (await chains.StatusAsync(job, default)).Record!.Checks;
        Assert.Equal(Enumerable.Range(3, 10), checks.Select(check => check.Attempt));
        Assert.All(checks, check => Assert.Equal(("QUEUING", TaskStates.Pending), (check.Status, check.State)));
    }
}
