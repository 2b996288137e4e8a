using MassTransit;
using TaskResults.Contracts;
using TaskResults.Service.Registry;

namespace TaskResults.Service.Consumers;

/// <summary>Answers <see cref="GetTaskStatus"/> from the job registry (Unknown, and why, without one).</summary>
public sealed class GetTaskStatusConsumer(JobChains chains) : IConsumer<GetTaskStatus>
{
    public async Task Consume(ConsumeContext<GetTaskStatus> context)
    {
        // Without an address to answer to, MassTransit would publish the answer to anyone bound to TaskStatus.
        if (context.ResponseAddress is null) return;
        var (jobId, taskType) = (context.Message.JobId, context.Message.TaskType);
        if (CommandValidation.FindJobProblem(jobId, taskType) is { } problem)
        {
            await context.RespondAsync(JobStatusReport.Unusable(jobId, taskType, problem));
            return;
        }

        var job = new JobKey(taskType, jobId);
        var (available, record) = await chains.StatusAsync(job, context.CancellationToken);
        await context.RespondAsync(JobStatusReport.From(job, record, available, chains.Enabled));
    }
}
