using System.Net.Security;
using System.Security.Authentication;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using TaskResults.Service.Options;

namespace TaskResults.Service.Broker;

/// <summary>
/// The broker as this instance reaches it: its nodes in this instance's order (see
/// <see cref="RabbitMqNodes.InConnectOrder"/>), for MassTransit's connection and for the service's
/// own short connections (declaring topology, watching the command queue).
/// </summary>
public sealed class BrokerConnections
{
    // Per process, so instances started with the same node list start on different nodes.
    private static readonly int Offset = Random.Shared.Next(1000);

    private readonly RabbitMqNodes _nodes;

    public BrokerConnections(IOptions<MessageBusOptions> options)
    {
        _nodes = options.Value.Nodes ?? throw new InvalidOperationException("ConnectionStrings:RabbitMq cannot be read; options validation reports why.");
        Nodes = _nodes.InConnectOrder(Offset);
    }

    /// <summary>Every node, in the order this instance tries them.</summary>
    public IReadOnlyList<RabbitMqNode> Nodes { get; }

    public RabbitMqNodes Broker => _nodes;

    /// <summary>A name that tells operators (and tests) which instance holds a connection: host and process.</summary>
    public static string ConnectionName(string purpose) => $"taskresults {purpose} {Environment.MachineName} pid {Environment.ProcessId}";

    /// <summary>Opens a connection to the first node that answers; throws when none does.</summary>
    public async Task<IConnection> ConnectAsync(string purpose, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory
        {
            UserName = _nodes.UserName,
            Password = _nodes.Password,
            VirtualHost = _nodes.VirtualHost,
            ClientProvidedName = ConnectionName(purpose),
            RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
            // Short-lived work: a lost connection fails the work, which its caller repeats.
            AutomaticRecoveryEnabled = false,
        };
        var endpoints = Nodes.Select(node => new AmqpTcpEndpoint(node.Host.Trim('[', ']'), node.Port, Tls(node))).ToList();
        return await factory.CreateConnectionAsync(endpoints, cancellationToken);
    }

    private SslOption Tls(RabbitMqNode node) => new()
    {
        Enabled = _nodes.UseTls,
        ServerName = node.Host.Trim('[', ']'),
        Version = SslProtocols.None,
        AcceptablePolicyErrors = SslPolicyErrors.None,
    };
}
