using MassTransit;
using TaskResults.Service.Broker;

namespace TaskResults.Service.Consumers;

/// <summary>
/// A rescheduled command returned by the broker means its wait queue is gone (deleted while the
/// service ran; sends to wait queues are mandatory). Before the message retry checks the job
/// again, the wait queues are declared again, so the job goes on instead of ending in _error.
/// A retry observer rather than a filter: the outbox sends after every filter inside the retry has
/// returned, so only the retry itself sees the returned message.
/// </summary>
public sealed class WaitQueueRepair(BrokerTopology topology) : IRetryObserver
{
    public Task PreRetry<T>(RetryContext<T> context) where T : class, PipeContext =>
        context.Exception is MessageReturnedException
            ? topology.RedeclareWaitQueuesAsync("A wait queue", context.CancellationToken)
            : Task.CompletedTask;

    public Task PostCreate<T>(RetryPolicyContext<T> context) where T : class, PipeContext => Task.CompletedTask;

    public Task PostFault<T>(RetryContext<T> context) where T : class, PipeContext => Task.CompletedTask;

    public Task RetryFault<T>(RetryContext<T> context) where T : class, PipeContext => Task.CompletedTask;

    public Task RetryComplete<T>(RetryContext<T> context) where T : class, PipeContext => Task.CompletedTask;
}
