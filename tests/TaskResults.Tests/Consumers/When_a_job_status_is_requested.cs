using TaskStatus = TaskResults.Contracts.TaskStatus;

namespace TaskResults.Tests.Consumers;

/// <summary>
/// <see cref="GetTaskStatus"/> on the bus (issue 14): what the registry knows of a job, through
/// MassTransit's request/response; without a registry, Unknown and why.
/// </summary>
public sealed class When_a_job_status_is_requested
{
    private static GetTaskStatus StatusOf(string jobId) => new() { JobId = jobId, TaskType = TaskTypes.HdColourMigration };

    [Fact]
    public async Task Should_answer_with_a_pending_jobs_last_status_attempts_and_next_check()
    {
        // A long interval: the job waits, pending, while it is asked about.
        await using var service = await ServiceHarness.WithRegistryAsync(interval: TimeSpan.FromSeconds(30));
        service.Api.Script("asked", FakeResponse.Status("QUEUING"));
        await service.Send(new CheckTaskResult { JobId = "asked", TaskType = TaskTypes.HdColourMigration });
        var pending = (await service.WaitFor<TaskPending>("asked")).Context.Message;

        var status = await service.Ask<GetTaskStatus, TaskStatus>(StatusOf("asked"));

        Assert.Equal((TaskStates.Pending, true, "QUEUING", 1), (status.State, status.Available, status.LastStatus, status.Attempts));
        Assert.Equal(pending.NextCheckAt, status.NextCheckAt);
        Assert.Equal(pending.Deadline, status.Deadline);
        Assert.Null(status.Succeeded);
    }

    [Fact]
    public async Task Should_answer_with_a_finished_jobs_event()
    {
        await using var service = await ServiceHarness.WithRegistryAsync();
        service.Api.Script("finished", FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/finished.png"));
        await service.Send(new CheckTaskResult { JobId = "finished", TaskType = TaskTypes.HdColourMigration });
        var succeeded = (await service.WaitFor<TaskSucceeded>("finished")).Context.Message;

        var status = await service.Ask<GetTaskStatus, TaskStatus>(StatusOf("finished"));

        Assert.Equal(TaskStates.Succeeded, status.State);
        Assert.Equal(succeeded.ResultUrls, status.Succeeded!.ResultUrls);
        Assert.Equal(1, status.Attempts);
    }

    [Fact]
    public async Task Should_say_unknown_for_a_job_it_never_saw_and_for_one_no_API_could_have_named()
    {
        await using var service = await ServiceHarness.WithRegistryAsync();

        var never = await service.Ask<GetTaskStatus, TaskStatus>(StatusOf("never-seen"));
        var absurd = await service.Ask<GetTaskStatus, TaskStatus>(StatusOf(new string('x', 5000)));

        Assert.Equal((TaskStates.Unknown, true, null), (never.State, never.Available, never.Message));
        Assert.Equal(TaskStates.Unknown, absurd.State);
        Assert.Contains("at most 256", absurd.Message);
    }

    [Fact]
    public async Task Should_say_not_available_without_a_registry()
    {
        await using var service = await ServiceHarness.StartAsync();

        var status = await service.Ask<GetTaskStatus, TaskStatus>(StatusOf("any"));

        Assert.Equal((TaskStates.Unknown, false), (status.State, status.Available));
        Assert.Contains("Registry:Store=None", status.Message);
    }
}
