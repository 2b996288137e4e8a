using RabbitMQ.Client;

namespace TaskResults.IntegrationTests.Support;

/// <summary>
/// The real RabbitMQ node the suite runs against: the one scripts/test.sh started (its folder in
/// TASKRESULTS_RABBITMQ_DIR), or one this fixture starts with scripts/rabbitmq.sh (of RABBITMQ_VERSION) and stops after.
/// </summary>
public sealed class Broker : IAsyncLifetime
{
    private bool _ownNode;

    public string Directory { get; private set; } = "";

    public Uri Uri { get; private set; } = null!;

    /// <summary>3.10 or 4.0.</summary>
    public string Version { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Directory = System.Environment.GetEnvironmentVariable("TASKRESULTS_RABBITMQ_DIR") ?? "";
        if (Directory.Length == 0)
        {
            Directory = Path.Combine(Path.GetTempPath(), $"taskresults-it-{System.Environment.ProcessId}");
            await RabbitMqScripts.Run("start", Directory);
            _ownNode = true;
        }

        var environment = RabbitMqScripts.Environment(Directory);
        Uri = new Uri(environment["RABBITMQ_URI"]);
        Version = environment["RABBITMQ_VERSION"];
    }

    public async Task DisposeAsync()
    {
        if (_ownNode) await RabbitMqScripts.Run("stop", Directory);
    }

    /// <summary>Stops the node and starts it again on the same port and data.</summary>
    public Task Restart() => RabbitMqScripts.Run("restart", Directory);

    /// <summary>Stops the node; <see cref="Resume"/> starts it again.</summary>
    public Task Stop() => RabbitMqScripts.Run("stop", Directory);

    public Task Resume() => RabbitMqScripts.Run("resume", Directory);

    /// <summary>Empties the service's queues so one scenario's leftovers never reach the next.</summary>
    public async Task PurgeServiceQueues()
    {
        await using var connection = await Connect();
        await PurgeServiceQueues(connection, await Ctl("list_queues", "name"));
    }

    /// <summary>Purges the service's queues among <paramref name="queueList"/> (rabbitmqctl's list) over <paramref name="connection"/>.</summary>
    public static async Task PurgeServiceQueues(IConnection connection, string queueList)
    {
        var queues = queueList.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(name => name.StartsWith("check-task-result", StringComparison.Ordinal) || name.StartsWith(TaskResultsEndpoints.ArchiveQueue, StringComparison.Ordinal));
        foreach (var queue in queues)
        {
            // A missing queue closes the channel it was asked on: one channel per queue.
            await using var channel = await connection.CreateChannelAsync();
            try { await channel.QueuePurgeAsync(queue); }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException) { } // gone meanwhile: nothing to purge
        }
    }

    /// <summary>How many messages wait in <paramref name="queue"/>, or null when it does not exist.</summary>
    public async Task<uint?> MessageCount(string queue)
    {
        await using var connection = await Connect();
        await using var channel = await connection.CreateChannelAsync();
        try { return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount; }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException) { return null; }
    }

    /// <summary>Waits until <paramref name="queue"/> holds <paramref name="expected"/> messages; false if it never does within the timeout.</summary>
    public async Task<bool> WaitForMessageCount(string queue, uint expected, TimeSpan timeout)
    {
        var stopAt = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < stopAt)
        {
            if (await MessageCount(queue) == expected) return true;
            await Task.Delay(100);
        }

        return false;
    }

    public async Task<IConnection> Connect() => await new ConnectionFactory { Uri = Uri }.CreateConnectionAsync();

    /// <summary>Runs rabbitmqctl against this node.</summary>
    public Task<string> Ctl(params string[] args) => RabbitMqScripts.Ctl(Directory, args);
}

[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<Broker>
{
    /// <summary>Every scenario shares one broker and one check queue, so they run one at a time.</summary>
    public const string Name = "real broker";
}
