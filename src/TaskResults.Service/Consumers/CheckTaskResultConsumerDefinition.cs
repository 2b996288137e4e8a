using MassTransit;
using Microsoft.Extensions.Options;
using TaskResults.Service.Options;

namespace TaskResults.Service.Consumers;

public sealed class CheckTaskResultConsumerDefinition : ConsumerDefinition<CheckTaskResultConsumer>
{
    /// <summary>Public: other services send CheckTaskResult here.</summary>
    public const string QueueName = "check-task-result";

    public CheckTaskResultConsumerDefinition(IOptions<MessageBusOptions> options)
    {
        EndpointName = QueueName;
        ConcurrentMessageLimit = options.Value.ConcurrentMessageLimit;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<CheckTaskResultConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // The queue stays MassTransit's default (classic, durable): a quorum queue would refuse the
        // plain declaration every MassTransit sender makes for "queue:check-task-result".

        // Every API answer is an outcome, not an exception: what throws here is unexpected (the
        // broker mid-publish, a bug), so a few quick retries, then MassTransit's _error queue.
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(100, 500, 2000));

        // Events and the rescheduled command go out together, only once the check has completed.
        endpointConfigurator.UseInMemoryOutbox(context);
    }
}
