using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using TaskResults.IntegrationTests.Support;
using Xunit.Abstractions;

namespace TaskResults.IntegrationTests;

/// <summary>
/// An upgrade on a live broker: check-task-result and its error and skipped queues are classic, as
/// earlier versions declared them, with commands waiting, an instance of the earlier version still
/// consuming, and senders sending all along. The service waits for the old instance to go, moves the
/// queues to quorum queues, and every command reaches its terminal event.
/// </summary>
public sealed class When_the_command_queue_is_classic(Broker broker, ITestOutputHelper output) : RealBrokerScenario(broker)
{
    private const int Waiting = 200;

    [Fact]
    public async Task Should_move_it_to_a_quorum_queue_without_losing_a_command()
    {
        Api.Unscripted = FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/moved.png"]);
        await using var connection = await Broker.Connect();
        await DeclareAsAnEarlierVersionDid(connection);
        await using var publisher = new CommandPublisher(Broker.Connect);
        var waiting = Enumerable.Range(1, Waiting).Select(i => $"waiting-{i}").ToList();
        await publisher.SendMany(waiting, TaskTypes.HdColourMigration);
        await Publish(connection, "check-task-result_error", "an old fault");

        // An instance of the earlier version, holding one command unacknowledged.
        var oldInstance = await connection.CreateChannelAsync();
        await oldInstance.BasicQosAsync(0, 1, false);
        await oldInstance.BasicConsumeAsync("check-task-result", autoAck: false, new AsyncEventingBasicConsumer(oldInstance));

        // Senders keep sending through the whole move: to the exchange, and straight to the queue.
        var sent = new List<string>();
        using var stopSending = new CancellationTokenSource();
        var sending = Task.Run(async () =>
        {
            for (var i = 1; !stopSending.IsCancellationRequested; i++)
            {
                var job = $"during-{i}";
                if (!IsSentStraightToTheQueue(job)) await publisher.Send(job, TaskTypes.HdColourMigration);
                else await publisher.Send(job, TaskTypes.HdColourMigration, exchange: "", routingKey: "check-task-result");
                lock (sent) sent.Add(job);
                await Task.Delay(20);
            }
        });

        var service = await StartService(waitUntilReady: false);
        Assert.True(await Eventually(() => service.Output.Contains("consumer(s), instances of an earlier TaskResults version"), TimeSpan.FromSeconds(30)),
            $"The service did not say it waits for the earlier instance.\n{service.Output}");
        Assert.False(await service.IsReady(), "Ready while the command queue is still classic.");

        await oldInstance.CloseAsync();
        await service.WaitUntilReady(TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(2));
        await stopSending.CancelAsync();
        await sending;

        // Through the exchange (MassTransit senders, the documented way) nothing is lost. Straight to
        // the queue (default exchange), a command published in the instant the classic queue is
        // deleted can be confirmed by RabbitMQ and still be gone (measured: 1 of about 570 in 2 of 6
        // runs on 3.10, 1 of about 450 on 4.0; docs/topology.md). The sender publishes one every 40 ms
        // that way, so one instant holds at most one of them. Each command waits as long as it may
        // take; once every other one is through, those sent straight to the queue get a short grace:
        // the full wait for the one that is gone took 3 minutes of the 4.0 suite.
        var all = waiting.Concat(sent).ToList();
        var direct = sent.Where(IsSentStraightToTheQueue).ToHashSet();
        var missing = (await Listener.Missing<TaskSucceeded>(all.Where(job => !direct.Contains(job)), 3 * EventTimeout))
            .Concat(await Listener.Missing<TaskSucceeded>(direct, TimeSpan.FromSeconds(10))).ToList();
        // What the broker holds when a command never reached its end: where it went is the first question.
        if (missing.Count > 0) output.WriteLine(await Broker.Ctl("list_queues", "name", "type", "messages", "messages_unacknowledged", "consumers"));

        var lostDirect = missing.Where(direct.Contains).ToList();
        Assert.True(missing.Count == lostDirect.Count, $"{missing.Count - lostDirect.Count} commands sent through the exchange or waiting never reached TaskSucceeded: " +
            $"{string.Join(", ", missing.Except(lostDirect).Take(10))}\n{service.Output}");
        Assert.True(lostDirect.Count <= 1, $"{lostDirect.Count} commands sent straight to the queue were lost: {string.Join(", ", lostDirect)}");
        all = all.Except(lostDirect).ToList();
        await Task.Delay(TimeSpan.FromSeconds(2)); // a duplicate, were there one, would be here by now
        var duplicates = all.Sum(job => Listener.Events<TaskSucceeded>(job).Count - 1);
        output.WriteLine($"RabbitMQ {Broker.Version}: moved with {Waiting} commands waiting and {sent.Count} sent during the move ({direct.Count} straight to the queue): " +
            $"{all.Count} reached TaskSucceeded, {lostDirect.Count} lost (straight to the queue), {duplicates} delivered twice");

        var types = await Broker.Ctl("list_queues", "name", "type", "messages");
        foreach (var queue in new[] { "check-task-result", "check-task-result_error", "check-task-result_skipped" })
            Assert.Matches($"(?m)^{queue}\tquorum\t", types);
        Assert.Matches("(?m)^check-task-result_error\tquorum\t1$", types);
        Assert.DoesNotContain("-migrating", types);
        Assert.Contains("Moved check-task-result to a quorum queue", service.Output);
    }

    // Every other command during the move goes to the default exchange, straight to the queue by name.
    private static bool IsSentStraightToTheQueue(string job) => int.Parse(job["during-".Length..], System.Globalization.CultureInfo.InvariantCulture) % 2 == 1;

    // Classic queues, each behind its exchange, as MassTransit declared them for earlier versions.
    private static async Task DeclareAsAnEarlierVersionDid(IConnection connection)
    {
        foreach (var queue in new[] { "check-task-result", "check-task-result_error", "check-task-result_skipped" })
        {
            await using var channel = await connection.CreateChannelAsync();
            await channel.QueueDeleteAsync(queue);
            await channel.ExchangeDeclareAsync(queue, ExchangeType.Fanout, durable: true);
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
            await channel.QueueBindAsync(queue, queue, "");
        }
    }

    private static async Task Publish(IConnection connection, string exchange, string body)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        await channel.BasicPublishAsync(exchange, "", true, new BasicProperties { Persistent = true }, Encoding.UTF8.GetBytes(body));
    }

    private static async Task<bool> Eventually(Func<bool> condition, TimeSpan timeout)
    {
        var stopAt = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > stopAt) return false;
            await Task.Delay(100);
        }

        return true;
    }
}
