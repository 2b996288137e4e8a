using MassTransit;
using TaskResults.Contracts;
using TaskResults.Service.Registry;

namespace TaskResults.Service.Consumers;

/// <summary>
/// Stops a job (<see cref="CancelTaskResult"/>, through <see cref="JobCancellation"/>): its <see cref="TaskFailed"/>
/// (<see cref="FailureReasons.Cancelled"/>) goes out at once under the cancel's CorrelationId, and its chain ends at
/// its next delivery. Answers with <see cref="TaskCancellation"/> when asked as a request.
/// </summary>
public sealed class CancelTaskResultConsumer(JobCancellation cancellation) : IConsumer<CancelTaskResult>
{
    public async Task Consume(ConsumeContext<CancelTaskResult> context)
    {
        var cancel = await cancellation.CancelAsync(context.Message.JobId, context.Message.TaskType, context.Message.Reason, context.CancellationToken);
        if (cancel.Event is { } cancelled) await context.Publish(cancelled, publish => publish.CorrelationId = context.CorrelationId);
        // A sender may send the command without waiting for an answer: then there is nobody to answer.
        if (context.ResponseAddress is not null) await context.RespondAsync(cancel.Answer);
    }
}
