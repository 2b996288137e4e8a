using System.Globalization;

namespace TaskResults.Service.Broker;

/// <summary>
/// The broker, as <c>ConnectionStrings:RabbitMq</c> names it: one node or the nodes of a cluster,
/// with one user, password, virtual host and scheme for all of them. Two spellings are accepted:
/// <c>amqp://user:password@host1:5672,host2:5672,host3:5672/vhost</c> (one URI, several hosts) and
/// a comma-separated list of whole URIs that agree on everything but host and port.
/// </summary>
public sealed record RabbitMqNodes(string Scheme, string UserName, string Password, string VirtualHost, IReadOnlyList<RabbitMqNode> Nodes)
{
    public const int DefaultPort = 5672;
    public const int DefaultTlsPort = 5671;

    public bool UseTls => Scheme == "amqps";

    /// <summary>Parses a connection string; on failure returns null and says why in <paramref name="problem"/>.</summary>
    public static RabbitMqNodes? TryParse(string? connectionString, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            problem = "ConnectionStrings:RabbitMq is not set.";
            return null;
        }

        var items = connectionString.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var parsed = new List<RabbitMqNodes>();
        var rest = items.AsSpan();
        // The first item carries scheme, user and vhost; items without "://" are further hosts of it.
        while (rest.Length > 0)
        {
            var hosts = 1;
            while (hosts < rest.Length && !rest[hosts].Contains("://", StringComparison.Ordinal)) hosts++;
            if (ParseOne(rest[..hosts], out problem) is not { } one) return null;
            parsed.Add(one);
            rest = rest[hosts..];
        }

        var first = parsed[0];
        if (parsed.Skip(1).FirstOrDefault(p => p.Scheme != first.Scheme || p.UserName != first.UserName || p.Password != first.Password || p.VirtualHost != first.VirtualHost) is not null)
        {
            problem = "The nodes in ConnectionStrings:RabbitMq must share scheme, user, password and virtual host.";
            return null;
        }

        var nodes = parsed.SelectMany(p => p.Nodes).Distinct().ToList();
        if (nodes.Count > 1 && nodes.Any(n => n.Host.StartsWith('[')))
        {
            // MassTransit's cluster nodes are host:port, split at the colon.
            problem = "The nodes of a cluster in ConnectionStrings:RabbitMq must be named by host name or IPv4 address, not IPv6.";
            return null;
        }

        return first with { Nodes = nodes };
    }

    // "amqp://user:pw@h1:1,h2:2/vhost" arrives as ["amqp://user:pw@h1:1", "h2:2/vhost"].
    private static RabbitMqNodes? ParseOne(ReadOnlySpan<string> pieces, out string? problem)
    {
        problem = null;
        var text = string.Join(",", pieces.ToArray());
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        var scheme = schemeEnd > 0 ? text[..schemeEnd].ToLowerInvariant() : "";
        if (scheme is not ("amqp" or "amqps"))
        {
            problem = "ConnectionStrings:RabbitMq must be an amqp:// or amqps:// URI, or several separated by commas (or set MessageBus:Transport to InMemory).";
            return null;
        }

        var remainder = text[(schemeEnd + 3)..];
        var pathStart = remainder.IndexOfAny(['/', '?']);
        var authority = pathStart < 0 ? remainder : remainder[..pathStart];
        var path = pathStart < 0 ? "" : remainder[pathStart..];
        var query = path.IndexOf('?');
        if (query >= 0) path = path[..query];

        var at = authority.LastIndexOf('@');
        var userInfo = at < 0 ? "" : authority[..at];
        var hostList = at < 0 ? authority : authority[(at + 1)..];
        var colon = userInfo.IndexOf(':');
        var user = Uri.UnescapeDataString(colon < 0 ? userInfo : userInfo[..colon]);
        var password = colon < 0 ? "" : Uri.UnescapeDataString(userInfo[(colon + 1)..]);
        var vhost = path.Length <= 1 ? "/" : Uri.UnescapeDataString(path[1..]);

        var nodes = new List<RabbitMqNode>();
        foreach (var host in hostList.Split(',', StringSplitOptions.TrimEntries))
        {
            if (RabbitMqNode.TryParse(host, scheme == "amqps" ? DefaultTlsPort : DefaultPort) is not { } node)
            {
                problem = $"ConnectionStrings:RabbitMq names a host that is not host[:port]: '{host}'.";
                return null;
            }

            nodes.Add(node);
        }

        return new RabbitMqNodes(scheme, user.Length == 0 ? "guest" : user, user.Length == 0 ? "guest" : password, vhost, nodes);
    }

    /// <summary>One node's URI with credentials and virtual host: what MassTransit's host takes.</summary>
    public Uri UriOf(RabbitMqNode node) => new UriBuilder(Scheme, node.Host, node.Port, VirtualHost == "/" ? "/" : "/" + Uri.EscapeDataString(VirtualHost))
    {
        UserName = Uri.EscapeDataString(UserName),
        Password = Uri.EscapeDataString(Password),
    }.Uri;

    /// <summary>The nodes without credentials, for logs: <c>amqp://h1:5672,h2:5672/vhost</c>.</summary>
    public override string ToString() =>
        $"{Scheme}://{string.Join(",", Nodes)}/{(VirtualHost == "/" ? "" : Uri.EscapeDataString(VirtualHost))}";

    /// <summary>
    /// The nodes in the order this instance tries them: rotated by a per-process offset, so that
    /// instances started with the same list spread over the cluster instead of all using its first node.
    /// </summary>
    public IReadOnlyList<RabbitMqNode> InConnectOrder(int offset) =>
        Nodes.Skip(offset % Nodes.Count).Concat(Nodes.Take(offset % Nodes.Count)).ToList();
}

/// <summary>One broker node: host and AMQP port.</summary>
public sealed record RabbitMqNode(string Host, int Port)
{
    public static RabbitMqNode? TryParse(string text, int defaultPort)
    {
        if (text.Length == 0) return null;
        string host;
        var port = defaultPort;
        if (text.StartsWith('['))
        {
            // [::1]:5672
            var close = text.IndexOf(']');
            if (close < 0) return null;
            host = text[..(close + 1)];
            var after = text[(close + 1)..];
            if (after.Length > 0 && !(after.StartsWith(':') && int.TryParse(after[1..], NumberStyles.None, CultureInfo.InvariantCulture, out port))) return null;
        }
        else
        {
            var colon = text.LastIndexOf(':');
            host = colon < 0 ? text : text[..colon];
            if (colon >= 0 && !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port)) return null;
        }

        if (port is < 1 or > 65535 || Uri.CheckHostName(host.Trim('[', ']')) == UriHostNameType.Unknown) return null;
        return new RabbitMqNode(host, port);
    }

    public override string ToString() => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}
