using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging.Abstractions;
using TaskResults.Service.Registry;

namespace TaskResults.Tests.Registry;

/// <summary>
/// Stopping a job (issue 14): a pending job's chain ends at its next delivery without a call, a check
/// that was running when it was cancelled publishes nothing, a late sender gets the cancel's event,
/// and a finished or unknown job is left as it was. The same rules over the in-memory store and Redis.
/// </summary>
public sealed class When_a_job_is_cancelled(RedisServer redis) : IClassFixture<RedisServer>
{
    private readonly RegistryStores _stores = new(redis);

    private DateTimeOffset Now => _stores.Clock.GetUtcNow();

    private static TaskFailed Cancelled(JobKey job) =>
        new() { JobId = job.JobId, TaskType = job.TaskType, Reason = FailureReasons.Cancelled, ErrorMessage = "not needed any more" };

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_end_the_chain_at_its_next_delivery_without_a_call(RegistryStore store)
    {
        var job = new JobKey(TaskTypes.HdColourMigration, "cancel-pending");
        var chains = _stores.Chains(store);
        var step1 = ((ChainStep.Check)await chains.BeginAsync(job, _stores.Delivery(), RegistryStores.NewSender(), Now, default)).Link!;
        var (_, step2) = await chains.AdvanceAsync(job, step1, _stores.Pending(attempts: 1), default);

        var (outcome, record) = (await chains.CancelAsync(job, Cancelled(job), default))!.Value;

        Assert.Equal(CancelOutcome.Cancelled, outcome);
        Assert.Equal(JobState.Cancelled, record!.State);
        Assert.Equal(FailureReasons.Cancelled, record.End!.Failed!.Reason);
        Assert.Equal(1, record.End.Failed.Attempts);
        Assert.Equal(JobState.Cancelled, (await chains.StatusAsync(job, default)).Record!.State);
        // The waiting step comes: the chain ends. A late sender gets the cancel's event.
        Assert.IsType<ChainStep.Cancelled>(await chains.BeginAsync(job, _stores.Delivery(step2, 2), RegistryStores.NewSender(), Now, default));
        var late = Assert.IsType<ChainStep.Finished>(await chains.BeginAsync(job, _stores.Delivery(), RegistryStores.NewSender(), Now, default));
        Assert.Equal(FailureReasons.Cancelled, late.End.Failed!.Reason);
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_end_the_chain_though_its_next_step_comes_after_the_retention(RegistryStore store)
    {
        // A step waits longer than the retention (a long outage, or a retention shorter than the wait): the cancel still holds.
        var job = new JobKey(TaskTypes.HdColourMigration, "cancel-kept");
        var chains = _stores.Chains(store, options => options.Retention = TimeSpan.FromSeconds(2));
        var step1 = ((ChainStep.Check)await chains.BeginAsync(job, _stores.Delivery(), RegistryStores.NewSender(), Now, default)).Link!;
        var (_, step2) = await chains.AdvanceAsync(job, step1, _stores.Pending(attempts: 1), default);
        await chains.CancelAsync(job, Cancelled(job), default);

        // Redis expires records by its own clock: real seconds pass there, fake ones here.
        _stores.Clock.Advance(TimeSpan.FromSeconds(3));
        if (store == RegistryStore.Redis) await Task.Delay(TimeSpan.FromSeconds(3));

        Assert.IsType<ChainStep.Cancelled>(await chains.BeginAsync(job, _stores.Delivery(step2, 2), RegistryStores.NewSender(), Now, default));
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_publish_nothing_for_a_check_that_was_running_when_the_job_was_cancelled(RegistryStore store)
    {
        var job = new JobKey(TaskTypes.HdColourMigration, "cancel-running");
        var chains = _stores.Chains(store);
        var running = ((ChainStep.Check)await chains.BeginAsync(job, _stores.Delivery(), RegistryStores.NewSender(), Now, default)).Link!;

        await chains.CancelAsync(job, Cancelled(job), default);

        // Its answer came after the cancel, whether the job went on or ended: nothing to send.
        Assert.False((await chains.AdvanceAsync(job, running, _stores.Pending(), default)).Continues);
        Assert.False(await chains.FinishAsync(job, running, new JobEnd(new TaskSucceeded { JobId = job.JobId }, null), 1, default));
        Assert.Equal(JobState.Cancelled, (await chains.StatusAsync(job, default)).Record!.State);
    }

    [Theory]
    [MemberData(nameof(RegistryStores.Both), MemberType = typeof(RegistryStores))]
    public async Task Should_leave_a_finished_or_unknown_job_as_it_was(RegistryStore store)
    {
        var (finished, unknown, twice) = (new JobKey(TaskTypes.HdColourMigration, "done"), new JobKey(TaskTypes.HdColourMigration, "never-seen"),
            new JobKey(TaskTypes.HdColourMigration, "cancelled-twice"));
        var chains = _stores.Chains(store);
        var step = ((ChainStep.Check)await chains.BeginAsync(finished, _stores.Delivery(), RegistryStores.NewSender(), Now, default)).Link!;
        await chains.FinishAsync(finished, step, new JobEnd(new TaskSucceeded { JobId = finished.JobId }, null), 1, default);
        await chains.BeginAsync(twice, _stores.Delivery(), RegistryStores.NewSender(), Now, default);
        await chains.CancelAsync(twice, Cancelled(twice), default);

        Assert.Equal(CancelOutcome.AlreadyFinished, (await chains.CancelAsync(finished, Cancelled(finished), default))!.Value.Outcome);
        Assert.Equal(JobState.Succeeded, (await chains.StatusAsync(finished, default)).Record!.State);
        Assert.Equal((CancelOutcome.Unknown, null), (await chains.CancelAsync(unknown, Cancelled(unknown), default))!.Value);
        Assert.Equal((true, null), await chains.StatusAsync(unknown, default));
        // Cancelled again: still cancelled, with the first cancel's event to send again (events are at least once).
        var again = (await chains.CancelAsync(twice, Cancelled(twice) with { ErrorMessage = "again" }, default))!.Value;
        Assert.Equal(CancelOutcome.AlreadyCancelled, again.Outcome);
        Assert.Equal("not needed any more", again.Record!.End!.Failed!.ErrorMessage);
    }

    [Fact]
    public async Task Should_say_not_available_without_a_registry()
    {
        var job = new JobKey(TaskTypes.HdColourMigration, "no-registry");
        var chains = new JobChains(Options.Create(new RegistryOptions()), _stores.Clock, NullLogger<JobChains>.Instance);

        Assert.Null(await chains.CancelAsync(job, Cancelled(job), default));
        Assert.Equal((false, null), await chains.StatusAsync(job, default));
    }
}
