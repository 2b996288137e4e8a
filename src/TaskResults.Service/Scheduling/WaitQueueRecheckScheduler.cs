using MassTransit;
using TaskResults.Contracts;

namespace TaskResults.Service.Scheduling;

/// <summary>
/// Reschedules on RabbitMQ without the delayed-message plugin: sends the command, with its progress
/// headers, to the wait queue of the delay (see <see cref="WaitQueueTopology"/>).
/// </summary>
public sealed class WaitQueueRecheckScheduler : IRecheckScheduler
{
    public async Task ScheduleRecheck(ConsumeContext<CheckTaskResult> context, CheckProgress progress, TimeSpan delay)
    {
        var waitQueue = await context.GetSendEndpoint(new Uri($"exchange:{WaitQueueTopology.NameFor(delay)}"));
        await waitQueue.Send(context.Message, send =>
        {
            send.CorrelationId = context.CorrelationId;
            progress.WriteTo(send.Headers);
        });
    }
}
