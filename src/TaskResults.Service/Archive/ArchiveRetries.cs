using System.Globalization;
using MassTransit;
using TaskResults.Contracts;
using TaskResults.Service.Broker;
using TaskResults.Service.Scheduling;

namespace TaskResults.Service.Archive;

/// <summary>
/// Brings an <see cref="ArchiveTaskResults"/> back after a wait, as checks come back: through wait queues of its
/// own in front of <c>archive-task-results</c> on RabbitMQ (no plugin), through redelivery on the in-memory bus.
/// The attempt travels in a header; nothing waits in the process.
/// </summary>
public abstract class ArchiveRetries
{
    public const string AttemptHeader = "TaskResults-Archive-Attempt";

    /// <summary>The waits before the 2nd, 3rd, 4th and every later attempt.</summary>
    public static readonly TimeSpan[] Delays = [TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10)];

    public static TimeSpan DelayAfter(int attempt) => Delays[Math.Clamp(attempt - 1, 0, Delays.Length - 1)];

    /// <summary>Which attempt this delivery is (1 for the first), clamped: a header is a claim.</summary>
    public static int AttemptOf(ConsumeContext context) =>
        context.Headers.Get<string>(AttemptHeader) is { } text && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var attempt)
            ? Math.Clamp(attempt, 1, 1_000_000)
            : 1;

    /// <summary>Sends the job back for attempt <paramref name="attempt"/> after <paramref name="delay"/>.</summary>
    public abstract Task RetryAsync(ConsumeContext<ArchiveTaskResults> context, int attempt, TimeSpan delay);

    public sealed class ThroughWaitQueues(BrokerTopology topology) : ArchiveRetries
    {
        public override async Task RetryAsync(ConsumeContext<ArchiveTaskResults> context, int attempt, TimeSpan delay)
        {
            await topology.Ready.WaitAsync(context.CancellationToken);
            var waitQueue = await context.GetSendEndpoint(new Uri($"exchange:{WaitQueues.NameFor(delay, TaskResultsEndpoints.ArchiveQueue)}"));
            await waitQueue.Send(context.Message, send =>
            {
                send.CorrelationId = context.CorrelationId;
                send.Headers.Set(AttemptHeader, attempt.ToString(CultureInfo.InvariantCulture));
                // A wait queue that has gone missing is an error, never a silent drop.
                if (send.TryGetPayload<RabbitMqSendContext>(out var rabbit)) rabbit.Mandatory = true;
            });
        }
    }

    public sealed class ThroughRedelivery : ArchiveRetries
    {
        public override Task RetryAsync(ConsumeContext<ArchiveTaskResults> context, int attempt, TimeSpan delay) =>
            context.Redeliver(delay, (_, send) => send.Headers.Set(AttemptHeader, attempt.ToString(CultureInfo.InvariantCulture)));
    }
}
