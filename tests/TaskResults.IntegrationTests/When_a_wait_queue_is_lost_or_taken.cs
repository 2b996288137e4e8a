using System.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using TaskResults.IntegrationTests.Support;
using Xunit.Abstractions;

namespace TaskResults.IntegrationTests;

/// <summary>
/// The wait queues are part of the service's topology like the command queue: readiness covers them,
/// a deleted one (the checks' or the archive's) is declared again and the job goes on, and one that
/// cannot be declared is said once.
/// </summary>
public sealed class When_a_wait_queue_is_lost_or_taken(Broker broker, ITestOutputHelper output) : RealBrokerScenario(broker)
{
    [Fact]
    public async Task Should_declare_a_deleted_wait_queue_again_and_carry_on_with_the_job()
    {
        var service = await StartService();
        // This instance's delays (RealBrokerScenario: 1 s interval and transient retry, 4 s at most).
        string[] waitQueues = ["check-task-result-wait-1000ms", "check-task-result-wait-2000ms", "check-task-result-wait-4000ms"];
        await using (var connection = await Broker.Connect())
        await using (var channel = await connection.CreateChannelAsync())
        {
            foreach (var queue in waitQueues) await channel.QueueDeleteAsync(queue);
        }

        Assert.All(waitQueues, queue => Assert.DoesNotContain(queue, Broker.Ctl("list_queues", "name").Result));

        // More pending answers than the message retry has tries: without the repair every try is returned, and the job ends in _error.
        var queuing = Enumerable.Repeat(FakeResponse.Status("QUEUING"), 4);
        Api.Script("orphaned", [.. queuing, FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/orphaned.png"])]);
        await Listener.Send(new CheckTaskResult { JobId = "orphaned", TaskType = TaskTypes.HdColourMigration });

        // Before: the mandatory send to the deleted queue faulted and the job ended in _error, with no event.
        await Listener.WaitFor<TaskSucceeded>("orphaned", EventTimeout);
        Assert.Empty(Listener.Events<TaskFailed>("orphaned"));
        Assert.Equal(0u, await Broker.MessageCount("check-task-result_error") ?? 0u);
        Assert.True(service.Output.Contains("declared the wait queues again", StringComparison.Ordinal), service.Output);
        var queuesNow = await Broker.Ctl("list_queues", "name");
        Assert.All(waitQueues, queue => Assert.Contains(queue, queuesNow));
        Assert.Equal(5, Api.Requests.Count(r => r.JobId == "orphaned"));
        Assert.True(await service.IsReady());
    }

    [Fact]
    public async Task Should_not_be_ready_while_a_wait_queue_cannot_be_declared_and_say_so_once()
    {
        // A delay no other scenario uses, so that its wait queue is this scenario's alone.
        const string interval = "00:00:01.234";
        const string taken = "check-task-result-wait-1234ms";
        await DeleteQueue(taken);
        await using (var connection = await Broker.Connect())
        await using (var channel = await connection.CreateChannelAsync())
        {
            // Someone else's queue of that name, with other arguments: the broker refuses the service's declaration.
            await channel.QueueDeclareAsync(taken, durable: true, exclusive: false, autoDelete: false);
        }

        try
        {
            var service = await StartService(new Dictionary<string, string> { ["Polling__Interval"] = interval }, waitUntilReady: false);
            var refused = Stopwatch.StartNew();
            while (!service.Output.Contains("refuses the service's topology", StringComparison.Ordinal))
            {
                Assert.True(refused.Elapsed < TimeSpan.FromSeconds(60), $"No line about the refused wait queue within 60 s:\n{service.Output}");
                Assert.False(await service.IsReady(), "Ready although a wait queue could not be declared.");
                await Task.Delay(250);
            }

            // The service tries again every 10 s; still not ready, and the same problem is not logged again.
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(12);
            while (DateTime.UtcNow < until)
            {
                Assert.False(await service.IsReady(), "Ready although a wait queue could not be declared.");
                await Task.Delay(500);
            }

            var lines = service.Output.Split('\n');
            var said = Enumerable.Range(0, lines.Length).Where(i => lines[i].Contains("refuses the service's topology", StringComparison.Ordinal)).ToList();
            Assert.True(said.Count == 1, $"The refusal was logged {said.Count} times:\n{service.Output}");
            // Loudly: an error (the console logger writes the level and category on the line before the message).
            Assert.StartsWith("fail:", lines[said[0] - 1]);

            // Once the queue is out of the way the service declares its own and is ready, by itself.
            await DeleteQueue(taken);
            var fixedAt = Stopwatch.StartNew();
            await service.WaitUntilReady(TimeSpan.FromSeconds(30));
            output.WriteLine($"refused wait queue: not ready, 1 line; ready {fixedAt.Elapsed.TotalSeconds:0.0} s after the queue was removed");
        }
        finally
        {
            await DeleteQueue(taken);
        }
    }

    [Fact]
    public async Task Should_declare_a_deleted_archive_wait_queue_again_and_store_the_files()
    {
        var directory = Path.Combine(Path.GetTempPath(), "taskresults-archive-wait-" + Guid.NewGuid().ToString("N"));
        await using var files = await FakeFileHost.StartAsync();
        try
        {
            var service = await StartService(new Dictionary<string, string>
            {
                ["Archive__Store"] = "FileSystem",
                ["Archive__Directory"] = directory,
                ["Archive__AllowedHosts__0"] = "127.0.0.1",
            });
            // The first wait after a failed download (ArchiveRetries: 5 s).
            const string waitQueue = "archive-task-results-wait-5000ms";
            await DeleteQueue(waitQueue);
            Assert.DoesNotContain(waitQueue, await Broker.Ctl("list_queues", "name"));

            // The file host fails twice: the first try's send to the wait queue comes back (the queue is gone), the
            // second try's goes through the queue declared again, and the third download stores the file.
            Api.Script("archive-orphaned", FakeResponse.Status("PROCESS_SUCCESS", imageList: [files.Url("twice.png")]));
            await Listener.Send(new CheckTaskResult { JobId = "archive-orphaned", TaskType = TaskTypes.HdColourMigration });

            var archived = (await Listener.WaitFor<TaskResultsArchived>("archive-orphaned", EventTimeout)).Message;
            Assert.Equal(FakeFileHost.Content("twice.png"), await File.ReadAllBytesAsync(new Uri(archived.Files.Single().Location).LocalPath));
            Assert.True(service.Output.Contains("declared the wait queues again", StringComparison.Ordinal), service.Output);
            Assert.Contains(waitQueue, await Broker.Ctl("list_queues", "name"));
            Assert.Equal(0u, await Broker.MessageCount("archive-task-results_error") ?? 0u);
            Assert.Equal(3, files.Requests.Count(request => request.Path.EndsWith("/twice.png", StringComparison.Ordinal)));
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    private async Task DeleteQueue(string name)
    {
        await using var connection = await Broker.Connect();
        await using var channel = await connection.CreateChannelAsync();
        try { await channel.QueueDeleteAsync(name); }
        catch (OperationInterruptedException) { } // not there
    }
}
