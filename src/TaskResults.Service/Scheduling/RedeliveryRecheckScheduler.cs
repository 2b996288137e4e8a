using MassTransit;
using TaskResults.Contracts;

namespace TaskResults.Service.Scheduling;

/// <summary>
/// Reschedules through MassTransit's own redelivery (<c>context.Redeliver</c>): the in-memory bus's
/// delay provider, or RabbitMQ's delayed-message-exchange plugin where the broker has it.
/// </summary>
public sealed class RedeliveryRecheckScheduler : IRecheckScheduler
{
    public Task ScheduleRecheck(ConsumeContext<CheckTaskResult> context, CheckProgress progress, TimeSpan delay) =>
        context.Redeliver(delay, (_, send) => progress.WriteTo(send.Headers));
}
