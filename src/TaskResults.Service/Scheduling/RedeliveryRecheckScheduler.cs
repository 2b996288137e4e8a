using MassTransit;
using TaskResults.Contracts;

namespace TaskResults.Service.Scheduling;

/// <summary>
/// Reschedules through MassTransit's own redelivery (<c>context.Redeliver</c>): the in-memory bus's
/// delay provider, or RabbitMQ's delayed-message-exchange plugin where the broker has it.
/// </summary>
public sealed class RedeliveryRecheckScheduler(TimeProvider clock) : IRecheckScheduler
{
    public Task ScheduleRecheck(ConsumeContext<CheckTaskResult> context, CheckProgress progress, TimeSpan delay, DateTimeOffset dueAt)
    {
        var left = dueAt - clock.GetUtcNow();
        return context.Redeliver(left > TimeSpan.Zero ? left : TimeSpan.Zero, (_, send) => progress.WriteTo(send.Headers));
    }
}
