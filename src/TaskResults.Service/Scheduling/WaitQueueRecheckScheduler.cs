using System.Globalization;
using MassTransit;
using TaskResults.Contracts;
using TaskResults.Service.Broker;

namespace TaskResults.Service.Scheduling;

/// <summary>
/// Reschedules on RabbitMQ without the delayed-message plugin: sends the command, with its progress
/// headers, to the wait queue of the delay (see <see cref="WaitQueues"/>).
/// </summary>
public sealed class WaitQueueRecheckScheduler(BrokerTopology topology, TimeProvider clock) : IRecheckScheduler
{
    public async Task ScheduleRecheck(ConsumeContext<CheckTaskResult> context, CheckProgress progress, TimeSpan delay, DateTimeOffset dueAt)
    {
        await topology.Ready.WaitAsync(context.CancellationToken);
        var waitQueue = await context.GetSendEndpoint(new Uri($"exchange:{WaitQueues.NameFor(delay)}"));
        await waitQueue.Send(context.Message, send =>
        {
            send.CorrelationId = context.CorrelationId;
            progress.WriteTo(send.Headers);
            if (!send.TryGetPayload<RabbitMqSendContext>(out var rabbit)) return;

            // A wait queue that has gone missing is an error, never a silent drop.
            rabbit.Mandatory = true;

            // Publishing the event took time since the API answered: expire that much sooner than the
            // queue's TTL, so the next check comes the configured interval after the answer.
            var left = dueAt - clock.GetUtcNow();
            if (left < delay) rabbit.BasicProperties.Expiration = ((long)Math.Max(0, left.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
        });
    }
}
