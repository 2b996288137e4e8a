using MassTransit.Testing;
using TaskStatus = TaskResults.Contracts.TaskStatus;

namespace TaskResults.Tests.Consumers;

/// <summary>
/// <see cref="CancelTaskResult"/> (issue 14): a pending job's TaskFailed CANCELLED goes out at once and
/// its chain ends at its next delivery without a call; a finished job is left as it was; without a
/// registry nothing changes and the answer says so.
/// </summary>
public sealed class When_a_job_is_cancelled_on_the_bus
{
    private static CancelTaskResult Cancel(string jobId, string? reason = null) => new() { JobId = jobId, TaskType = TaskTypes.HdColourMigration, Reason = reason };

    [Fact]
    public async Task Should_publish_its_end_at_once_and_end_its_chain_without_a_call()
    {
        // Five seconds between checks: the cancel lands while the job waits, even on a busy machine.
        await using var service = await ServiceHarness.WithRegistryAsync(interval: TimeSpan.FromSeconds(5), inactivity: TimeSpan.FromSeconds(8));
        service.Harness.TestTimeout = TimeSpan.FromSeconds(30);
        service.Api.Script("stopped", FakeResponse.Status("QUEUING"), FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/too-late.png"));
        await service.Send(new CheckTaskResult { JobId = "stopped", TaskType = TaskTypes.HdColourMigration });
        await service.WaitFor<TaskPending>("stopped");

        var answer = await service.Ask<CancelTaskResult, TaskCancellation>(Cancel("stopped", "the user closed the page"));

        Assert.Equal(CancelOutcomes.Cancelled, answer.Outcome);
        Assert.Equal(TaskStates.Cancelled, answer.Status.State);
        var failed = (await service.WaitFor<TaskFailed>("stopped")).Context.Message;
        Assert.Equal((FailureReasons.Cancelled, "the user closed the page", 1), (failed.Reason, failed.ErrorMessage, failed.Attempts));

        // The rescheduled check comes and ends the chain: no call; the cancel's event again (in case its publish was lost), nothing else.
        Assert.True(await service.Harness.Consumed.SelectAsync<CheckTaskResult>(m => m.Context.Message.JobId == "stopped").Skip(1).Any(),
            "The rescheduled check never came.");
        await service.UntilQuiet();
        Assert.Equal(1, service.Api.CallsFor("stopped"));
        Assert.Empty(service.Events<TaskSucceeded>("stopped"));
        Assert.Equal([FailureReasons.Cancelled, FailureReasons.Cancelled], service.Events<TaskFailed>("stopped").Select(e => e.Reason));
        Assert.Equal(TaskStates.Cancelled, (await service.Ask<GetTaskStatus, TaskStatus>(new GetTaskStatus { JobId = "stopped", TaskType = TaskTypes.HdColourMigration })).State);
    }

    [Fact]
    public async Task Should_keep_the_reason_to_an_excerpt_without_the_API_key()
    {
        await using var service = await ServiceHarness.WithRegistryAsync();
        service.Api.Script("noisy", FakeResponse.Status("QUEUING"));
        await service.Send(new CheckTaskResult { JobId = "noisy", TaskType = TaskTypes.HdColourMigration });
        await service.WaitFor<TaskPending>("noisy");

        await service.Ask<CancelTaskResult, TaskCancellation>(Cancel("noisy", $"key {FakeAILabToolsApi.ApiKey}\n" + new string('x', 100_000)));

        var failed = (await service.WaitFor<TaskFailed>("noisy")).Context.Message;
        Assert.DoesNotContain(FakeAILabToolsApi.ApiKey, failed.ErrorMessage);
        Assert.DoesNotContain("\n", failed.ErrorMessage);
        Assert.InRange(failed.ErrorMessage!.Length, 1, 501);
    }

    [Fact]
    public async Task Should_leave_a_finished_job_as_it_was()
    {
        await using var service = await ServiceHarness.WithRegistryAsync();
        service.Api.Script("done", FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/done.png"));
        await service.Send(new CheckTaskResult { JobId = "done", TaskType = TaskTypes.HdColourMigration });
        await service.WaitFor<TaskSucceeded>("done");

        var answer = await service.Ask<CancelTaskResult, TaskCancellation>(Cancel("done"));
        var unknown = await service.Ask<CancelTaskResult, TaskCancellation>(Cancel("never-seen"));

        Assert.Equal((CancelOutcomes.AlreadyFinished, TaskStates.Succeeded), (answer.Outcome, answer.Status.State));
        Assert.Equal((CancelOutcomes.Unknown, TaskStates.Unknown), (unknown.Outcome, unknown.Status.State));
        await service.UntilQuiet();
        Assert.Empty(service.Events<TaskFailed>("done"));
    }

    [Fact]
    public async Task Should_change_nothing_without_a_registry_and_say_so()
    {
        await using var service = await ServiceHarness.StartAsync();

        var answer = await service.Ask<CancelTaskResult, TaskCancellation>(Cancel("any"));

        Assert.Equal(CancelOutcomes.NotAvailable, answer.Outcome);
        Assert.Contains("Registry:Store=None", answer.Status.Message);
        await service.UntilQuiet();
        Assert.Empty(service.Harness.Published.Select<TaskFailed>());
    }
}
