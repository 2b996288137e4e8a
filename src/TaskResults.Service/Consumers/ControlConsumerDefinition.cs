using MassTransit;
using TaskResults.Contracts;
using TaskResults.Service.Broker;
using TaskResults.Service.Options;

namespace TaskResults.Service.Consumers;

/// <summary>
/// The control queue (<see cref="TaskResultsEndpoints.ControlQueue"/>): status requests and cancels, apart
/// from the checks so that a backlog of checks never delays them. Always a quorum queue (a cancel is not
/// lost with a node), whatever the command queue's type: a queue's type cannot change once declared.
/// </summary>
public sealed class ControlConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer> where TConsumer : class, IConsumer
{
    public ControlConsumerDefinition() => EndpointName = TaskResultsEndpoints.ControlQueue;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<TConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            foreach (var (key, value) in CommandQueue.SideQueueArguments(CommandQueueType.Quorum)) rabbit.SetQueueArgument(key, value);
        }

        // On the consumer, not the endpoint: both consumers share the endpoint, and each filter should run once.
        // A registry that cannot be reached answers "not available", so what throws is unexpected: a few quick retries.
        consumerConfigurator.UseMessageRetry(retry => retry.Intervals(100, 500));
        // The cancel's event goes out only once the cancel has completed.
        consumerConfigurator.UseInMemoryOutbox(context);
    }
}
