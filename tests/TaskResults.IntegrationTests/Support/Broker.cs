using System.Diagnostics;
using RabbitMQ.Client;

namespace TaskResults.IntegrationTests.Support;

/// <summary>
/// The real RabbitMQ node the suite runs against: the one scripts/test.sh started (its folder in
/// TASKRESULTS_RABBITMQ_DIR), or one this fixture starts with scripts/rabbitmq.sh and stops after.
/// </summary>
public sealed class Broker : IAsyncLifetime
{
    private bool _ownNode;

    public string Directory { get; private set; } = "";

    public Uri Uri { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory = Environment.GetEnvironmentVariable("TASKRESULTS_RABBITMQ_DIR") ?? "";
        if (Directory.Length == 0)
        {
            Directory = Path.Combine(Path.GetTempPath(), $"taskresults-it-{Environment.ProcessId}");
            await Script("start", Directory);
            _ownNode = true;
        }

        Uri = new Uri(NodeEnvironment()["RABBITMQ_URI"]);
    }

    public async Task DisposeAsync()
    {
        if (_ownNode) await Script("stop", Directory);
    }

    /// <summary>Stops the node and starts it again on the same port and data.</summary>
    public Task Restart() => Script("restart", Directory);

    /// <summary>Stops the node; <see cref="Resume"/> starts it again.</summary>
    public Task Stop() => Script("stop", Directory);

    public Task Resume() => Script("resume", Directory);

    /// <summary>Empties the service's queues so one scenario's leftovers never reach the next.</summary>
    public async Task PurgeServiceQueues()
    {
        await using var connection = await Connect();
        foreach (var queue in new[] { "check-task-result", "check-task-result_error", "check-task-result_skipped" }.Concat(await WaitQueues()))
        {
            // A missing queue closes the channel it was asked on: one channel per queue.
            await using var channel = await connection.CreateChannelAsync();
            try { await channel.QueuePurgeAsync(queue); }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException) { } // not declared yet: nothing to purge
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

    private async Task<string[]> WaitQueues()
    {
        var list = await Ctl("list_queues", "name");
        return list.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(name => name.StartsWith("check-task-result-wait-", StringComparison.Ordinal)).ToArray();
    }

    /// <summary>Runs rabbitmqctl against this node.</summary>
    public async Task<string> Ctl(params string[] args)
    {
        var start = new ProcessStartInfo("/usr/lib/rabbitmq/bin/rabbitmqctl") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-n");
        start.ArgumentList.Add(NodeEnvironment()["RABBITMQ_NODENAME"]);
        start.ArgumentList.Add("-q");
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["HOME"] = Path.Combine(Directory, "home");
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }

    // DIR/env, written by scripts/rabbitmq.sh start: the node's name, ports and URI.
    private Dictionary<string, string> NodeEnvironment() =>
        File.ReadAllLines(Path.Combine(Directory, "env")).Select(line => line.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);

    private static async Task Script(string verb, string directory)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot.Path, "scripts", "rabbitmq.sh"));
        start.ArgumentList.Add(verb);
        start.ArgumentList.Add(directory);
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"scripts/rabbitmq.sh {verb} failed ({process.ExitCode}): {await errors}");
    }
}

[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<Broker>
{
    /// <summary>Every scenario shares one broker and one check queue, so they run one at a time.</summary>
    public const string Name = "real broker";
}
