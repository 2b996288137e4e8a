using RabbitMQ.Client;
using TaskResults.IntegrationTests.Support;

namespace TaskResults.IntegrationTests;

/// <summary>
/// A poison command: one whose check kills the consumer every time, so the broker hands it out again
/// and again. The quorum command queue counts the deliveries and, at the limit, dead-letters it to
/// check-task-result_error instead of looping forever (or, RabbitMQ 4's default, dropping it).
/// </summary>
public sealed class When_a_command_keeps_coming_back(Broker broker) : RealBrokerScenario(broker)
{
    [Fact]
    public async Task Should_end_in_the_error_queue_after_the_delivery_limit()
    {
        // The service declares the queues, then leaves them to a consumer that always gives the command back.
        var service = await StartService();
        await service.Kill();

        await using var connection = await Broker.Connect();
        await using var publisher = new CommandPublisher(Broker.Connect);
        await publisher.Send("poison", TaskTypes.HdColourMigration);

        await using var channel = await connection.CreateChannelAsync();
        var deliveries = 0;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        // Until the broker dead-letters it: taken and given back, as a crashing consumer would.
        while ((await channel.QueueDeclarePassiveAsync("check-task-result_error")).MessageCount == 0)
        {
            Assert.True(DateTime.UtcNow < until, $"The command did not reach check-task-result_error within 60 s ({deliveries} deliveries).");
            if (await channel.BasicGetAsync("check-task-result", autoAck: false) is not { } delivery)
            {
                await Task.Delay(50); // a requeued command may take a moment to be back
                continue;
            }

            deliveries++;
            // As a crash does: back to the queue, counted (basic.reject, which every version counts).
            await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: true);
            Assert.True(deliveries <= 100, "The command is still delivered after 100 times.");
        }

        Assert.InRange(deliveries, 20, 21);
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync("check-task-result")).MessageCount);
    }
}
