using System.Text.RegularExpressions;
using RabbitMQ.Client;

namespace TaskResults.IntegrationTests.Support;

/// <summary>
/// A real 3-node RabbitMQ cluster on loopback: the one scripts/test.sh started (its folder in
/// TASKRESULTS_RABBITMQ_CLUSTER_DIR), or one this fixture starts (of RABBITMQ_VERSION) and stops after.
/// </summary>
public sealed partial class Cluster : IAsyncLifetime
{
    private bool _own;

    public string Directory { get; private set; } = "";

    public string Version { get; private set; } = "";

    public IReadOnlyList<ClusterNode> Nodes { get; private set; } = [];

    /// <summary>All nodes in one connection string, as the service takes them: amqp://guest:guest@127.0.0.1:p1,127.0.0.1:p2,…/</summary>
    public string ConnectionString => $"amqp://guest:guest@{string.Join(",", Nodes.Select(n => $"127.0.0.1:{n.Port}"))}/";

    public async Task InitializeAsync()
    {
        Directory = System.Environment.GetEnvironmentVariable("TASKRESULTS_RABBITMQ_CLUSTER_DIR") ?? "";
        if (Directory.Length == 0)
        {
            Directory = Path.Combine(Path.GetTempPath(), $"taskresults-cluster-{System.Environment.ProcessId}");
            await RabbitMqScripts.Run("start", Directory, "--nodes", "3");
            _own = true;
        }

        var environment = RabbitMqScripts.Environment(Directory);
        Version = environment["RABBITMQ_VERSION"];
        Nodes = environment["RABBITMQ_CLUSTER_NODES"].Split(',').Select(name =>
        {
            var dir = Path.Combine(Directory, name);
            var node = RabbitMqScripts.Environment(dir);
            return new ClusterNode(name, dir, node["RABBITMQ_NODENAME"], int.Parse(node["RABBITMQ_NODE_PORT"]));
        }).ToList();
    }

    public async Task DisposeAsync()
    {
        if (_own) await RabbitMqScripts.Run("stop", Directory);
    }

    /// <summary>kill -9 of one node: no goodbye to its clients or its peers.</summary>
    public Task Kill(ClusterNode node) => RabbitMqScripts.Run("kill", node.Directory);

    /// <summary>Starts a killed node again (same ports and data); returns when it accepts clients.</summary>
    public Task Resume(ClusterNode node) => RabbitMqScripts.Run("resume", node.Directory);

    /// <summary>rabbitmqctl against a running node (another than <paramref name="avoid"/>).</summary>
    public Task<string> Ctl(ClusterNode? avoid, params string[] args) => RabbitMqScripts.Ctl(Nodes.First(n => n != avoid).Directory, args);

    /// <summary>A connection to the first node that answers, as a client with the whole list would open it.</summary>
    public async Task<IConnection> Connect(string name = "taskresults-tests") =>
        await new ConnectionFactory { UserName = "guest", Password = "guest", ClientProvidedName = name }
            .CreateConnectionAsync(Nodes.Select(n => new AmqpTcpEndpoint("127.0.0.1", n.Port)).ToList());

    /// <summary>The node that leads each quorum queue whose name starts with <paramref name="prefix"/>.</summary>
    public async Task<Dictionary<string, ClusterNode>> Leaders(string prefix)
    {
        var leaders = new Dictionary<string, ClusterNode>();
        foreach (var line in (await Ctl(null, "list_queues", "name", "type", "leader")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var columns = line.Split('\t');
            if (columns is [var queue, "quorum", var leader] && queue.StartsWith(prefix, StringComparison.Ordinal))
                leaders[queue] = Nodes.Single(n => n.NodeName == leader.Trim());
        }

        return leaders;
    }

    /// <summary>Moves the leadership of every quorum queue led by <paramref name="node"/> to another node (a follower of it).</summary>
    public async Task MoveLeadersOff(ClusterNode node, string prefix)
    {
        foreach (var (queue, leader) in await Leaders(prefix))
        {
            if (leader != node) continue;
            var target = Nodes.First(n => n != node);
            await Ctl(node, "eval",
                $"{{ok, Q}} = rabbit_amqqueue:lookup(rabbit_misc:r(<<\"/\">>, queue, <<\"{queue}\">>)), rabbit_quorum_queue:transfer_leadership(Q, '{target.NodeName}').");
        }
    }

    /// <summary>The node the connection named <paramref name="connectionName"/> is on, or null when it has none.</summary>
    public async Task<ClusterNode?> NodeOfConnection(string connectionName)
    {
        foreach (var line in (await Ctl(null, "list_connections", "port", "client_properties")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = ConnectionNamePattern().Match(line);
            if (name.Success && name.Groups[1].Value == connectionName && int.TryParse(line.Split('\t')[0], out var port))
                return Nodes.Single(n => n.Port == port);
        }

        return null;
    }

    [GeneratedRegex("\"connection_name\",\"([^\"]*)\"")]
    private static partial Regex ConnectionNamePattern();
}

/// <summary>One node of <see cref="Cluster"/>: n1…n3, its folder, Erlang node name and AMQP port.</summary>
public sealed record ClusterNode(string Name, string Directory, string NodeName, int Port);

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<Cluster>
{
    /// <summary>The cluster scenarios kill its nodes: one at a time.</summary>
    public const string Name = "real cluster";
}
