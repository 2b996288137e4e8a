using MassTransit;
using Microsoft.Extensions.Options;
using TaskResults.Service.Broker;
using TaskResults.Service.Options;

namespace TaskResults.Service.Consumers;

public sealed class CheckTaskResultConsumerDefinition : ConsumerDefinition<CheckTaskResultConsumer>
{
    /// <summary>Public: other services send CheckTaskResult here.</summary>
    public const string QueueName = CommandQueue.Name;

    private readonly CommandQueueType _queueType;

    public CheckTaskResultConsumerDefinition(IOptions<MessageBusOptions> options)
    {
        EndpointName = QueueName;
        ConcurrentMessageLimit = options.Value.ConcurrentMessageLimit;
        _queueType = options.Value.CommandQueue;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<CheckTaskResultConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // The queue as BrokerTopology declared it (quorum by default): a declaration that differs would be refused.
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            foreach (var (key, value) in CommandQueue.Arguments(_queueType)) rabbit.SetQueueArgument(key, value);
        }

        // Every API answer is an outcome, not an exception: what throws here is unexpected.
        endpointConfigurator.UseQuickRetries(context);

        // Events and the rescheduled command go out together, only once the check has completed.
        endpointConfigurator.UseInMemoryOutbox(context);
    }
}
