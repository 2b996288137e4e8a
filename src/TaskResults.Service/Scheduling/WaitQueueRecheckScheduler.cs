using System.Globalization;
using MassTransit;
using TaskResults.Contracts;

namespace TaskResults.Service.Scheduling;

/// <summary>
/// Reschedules on RabbitMQ without the delayed-message plugin: sends the command, with its progress
/// headers, to the wait queue of the delay (see <see cref="WaitQueueTopology"/>).
/// </summary>
public sealed class WaitQueueRecheckScheduler(WaitQueueTopology topology, TimeProvider clock) : IRecheckScheduler
{
    public async Task ScheduleRecheck(ConsumeContext<CheckTaskResult> context, CheckProgress progress, TimeSpan delay, DateTimeOffset dueAt)
    {
        await topology.Ready.WaitAsync(context.CancellationToken);
        var waitQueue = await context.GetSendEndpoint(new Uri($"exchange:{WaitQueueTopology.NameFor(delay)}"));
        await waitQueue.Send(context.Message, send =>
        {
            send.CorrelationId = context.CorrelationId;
            progress.WriteTo(send.Headers);
            if (!send.TryGetPayload<RabbitMqSendContext>(out var rabbit)) return;

            // A wait queue that has gone missing is an error, never a silent drop.
            rabbit.Mandatory = true;

            // The check itself took time: expire that much sooner than the queue's TTL, so checks
            // are the configured interval apart from start to start. (The queue's TTL is the upper bound.)
            var left = dueAt - clock.GetUtcNow();
            if (left < delay) rabbit.BasicProperties.Expiration = ((long)Math.Max(0, left.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
        });
    }
}
