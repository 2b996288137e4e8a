using MassTransit;
using TaskResults.Service.Broker;

namespace TaskResults.Service.Consumers;

public static class QuickRetries
{
    /// <summary>
    /// What throws in a command's consumer is unexpected (the broker mid-publish, a bug): a few quick
    /// retries, then MassTransit's _error queue. A wait queue deleted under the service is declared
    /// again before the retry (<see cref="WaitQueueRepair"/>).
    /// </summary>
    public static void UseQuickRetries(this IReceiveEndpointConfigurator endpoint, IRegistrationContext context)
    {
        var topology = context.GetService<BrokerTopology>();
        endpoint.UseMessageRetry(retry =>
        {
            retry.Intervals(100, 500, 2000);
            if (topology is not null) retry.ConnectRetryObserver(new WaitQueueRepair(topology));
        });
    }
}
