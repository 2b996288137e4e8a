using System.Text;
using RabbitMQ.Client;
using TaskResults.IntegrationTests.Support;

namespace TaskResults.IntegrationTests;

public sealed class When_malformed_messages_arrive(Broker broker) : RealBrokerScenario(broker)
{
    [Fact]
    public async Task Should_move_them_to_error_and_skipped_and_keep_consuming()
    {
        Api.Script("after-garbage", FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/ok.png"]));
        var service = await StartService();

        await using (var connection = await Broker.Connect())
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            var envelope = new BasicProperties { ContentType = "application/vnd.masstransit+json", Persistent = true, MessageId = "garbage-not-json" };
            await channel.BasicPublishAsync("check-task-result", "", true, envelope, Encoding.UTF8.GetBytes("this is { not json"));

            var unknownType = new BasicProperties { ContentType = "application/vnd.masstransit+json", Persistent = true, MessageId = "garbage-unknown-type" };
            await channel.BasicPublishAsync("check-task-result", "", true, unknownType, Encoding.UTF8.GetBytes(
                """{"messageId":"7d2f0000-0000-0000-0000-000000000001","messageType":["urn:message:Someone.Else:Thing"],"message":{"x":1}}"""));
        }

        await Listener.Send(new CheckTaskResult { JobId = "after-garbage", TaskType = TaskTypes.HdColourMigration });

        await Listener.WaitFor<TaskSucceeded>("after-garbage", EventTimeout);
        Assert.Equal(1u, await Broker.MessageCount("check-task-result_error"));
        Assert.Equal(1u, await Broker.MessageCount("check-task-result_skipped"));
        Assert.Equal(0, Api.CallsFor(""));
        // MassTransit logs the unreadable one once (R-FAULT), with no retry storm.
        Assert.Equal(1, service.Output.Split('\n').Count(line => line.Contains("R-FAULT")));
    }
}
