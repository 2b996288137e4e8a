using MassTransit;
using TaskResults.Service.Broker;

namespace TaskResults.Service.Consumers;

/// <summary>
/// A command sent back to wait (a check rescheduled, an archive job to try again) returned by the
/// broker means its wait queue is gone (deleted while the service ran; sends to wait queues are
/// mandatory). Before the message retry runs the command again, the wait queues are declared
/// again, so the job goes on instead of ending in _error.
/// A retry observer rather than a filter: the outbox sends after every filter inside the retry has
/// returned, so only the retry itself sees the returned message.
/// </summary>
/// It never throws: MassTransit calls it outside the retry's own error handling, so an exception
/// here would skip the remaining tries.
public sealed class WaitQueueRepair(BrokerTopology topology) : IRetryObserver
{
    // Long enough for a declaration on a reachable broker; a repair that takes longer goes on in the background.
    private static readonly TimeSpan RepairWait = TimeSpan.FromSeconds(10);

    public async Task PreRetry<T>(RetryContext<T> context) where T : class, PipeContext
    {
        if (context.Exception is not MessageReturnedException) return;
        await Task.WhenAny(topology.RepairWaitQueuesAsync(), Task.Delay(RepairWait, context.CancellationToken));
    }

    public Task PostCreate<T>(RetryPolicyContext<T> context) where T : class, PipeContext => Task.CompletedTask;

    public Task PostFault<T>(RetryContext<T> context) where T : class, PipeContext => Task.CompletedTask;

    public Task RetryFault<T>(RetryContext<T> context) where T : class, PipeContext => Task.CompletedTask;

    public Task RetryComplete<T>(RetryContext<T> context) where T : class, PipeContext => Task.CompletedTask;
}
