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
        var quietSince = DateTime.UtcNow;
        // Until the broker stops handing it out (a requeued command may take a moment to be back).
        while (DateTime.UtcNow - quietSince < TimeSpan.FromSeconds(2))
        {
            if (await channel.BasicGetAsync("check-task-result", autoAck: false) is not { } delivery)
            {
                await Task.Delay(50);
                continue;
            }

            deliveries++;
            quietSince = DateTime.UtcNow;
            // As a crash does: back to the queue, counted (basic.reject, which every version counts).
            await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: true);
            Assert.True(deliveries <= 100, "The command is still delivered after 100 times.");
        }

        Assert.InRange(deliveries, 20, 21);
        Assert.True(await Broker.WaitForMessageCount("check-task-result_error", 1, TimeSpan.FromSeconds(10)),
            "The command did not reach check-task-result_error.");
    }
}
