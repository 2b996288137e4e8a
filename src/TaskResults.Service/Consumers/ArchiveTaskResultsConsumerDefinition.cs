using MassTransit;
using Microsoft.Extensions.Options;
using TaskResults.Contracts;
using TaskResults.Service.Archive;
using TaskResults.Service.Broker;
using TaskResults.Service.Options;

namespace TaskResults.Service.Consumers;

/// <summary>Its own quorum queue and its own concurrency (<c>Archive:ConcurrentArchives</c>): large downloads never hold up checks.</summary>
public sealed class ArchiveTaskResultsConsumerDefinition : ConsumerDefinition<ArchiveTaskResultsConsumer>
{
    public ArchiveTaskResultsConsumerDefinition(IOptions<ArchiveOptions> options)
    {
        EndpointName = TaskResultsEndpoints.ArchiveQueue;
        ConcurrentMessageLimit = options.Value.ConcurrentArchives;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ArchiveTaskResultsConsumer> consumerConfigurator, IRegistrationContext context)
    {
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            foreach (var (key, value) in CommandQueue.SideQueueArguments(CommandQueueType.Quorum)) rabbit.SetQueueArgument(key, value);
        }

        // A failed download or store is an outcome (ArchiveRetries): what throws is unexpected.
        endpointConfigurator.UseQuickRetries(context);
        // The event, or the job sent back to wait, goes out only once the attempt has completed.
        endpointConfigurator.UseInMemoryOutbox(context);
    }
}
