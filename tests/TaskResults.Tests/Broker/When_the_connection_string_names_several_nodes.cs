using TaskResults.Service.Broker;

namespace TaskResults.Tests.Broker;

public sealed class When_the_connection_string_names_several_nodes
{
    [Theory]
    [InlineData("amqp://u:p@h1:5781,h2:5782,h3/tr", "amqp", "h1:5781,h2:5782,h3:5672")]
    [InlineData("amqp://u:p@h1:5781/tr,amqp://u:p@h2:5782/tr", "amqp", "h1:5781,h2:5782")]
    [InlineData("amqps://u:p@h1,h2:5999/tr", "amqps", "h1:5671,h2:5999")]
    [InlineData(" amqp://u:p@h1:5781/tr , amqp://u:p@h1:5781/tr ", "amqp", "h1:5781")]
    public void Should_read_every_node_with_one_user_and_virtual_host(string connectionString, string scheme, string nodes)
    {
        var parsed = RabbitMqNodes.TryParse(connectionString, out var problem);

        Assert.Null(problem);
        Assert.NotNull(parsed);
        Assert.Equal((scheme, "u", "p", "tr"), (parsed.Scheme, parsed.UserName, parsed.Password, parsed.VirtualHost));
        Assert.Equal(nodes, string.Join(",", parsed.Nodes));
    }

    [Fact]
    public void Should_read_a_single_node_as_before()
    {
        var parsed = RabbitMqNodes.TryParse("amqp://guest:guest@localhost:5672/", out _)!;

        Assert.Equal(["localhost:5672"], parsed.Nodes.Select(n => n.ToString()));
        Assert.Equal("/", parsed.VirtualHost);
        Assert.Equal(new Uri("amqp://guest:guest@localhost:5672/"), parsed.UriOf(parsed.Nodes[0]));
    }

    [Fact]
    public void Should_keep_escaped_characters_of_user_password_and_virtual_host()
    {
        var parsed = RabbitMqNodes.TryParse("amqp://us%40er:p%3Aw%2Cd@h1,h2/my%2Fvhost", out _)!;

        Assert.Equal(("us@er", "p:w,d", "my/vhost"), (parsed.UserName, parsed.Password, parsed.VirtualHost));
        Assert.Equal("amqp://us%40er:p%3Aw%2Cd@h2:5672/my%2Fvhost", parsed.UriOf(parsed.Nodes[1]).AbsoluteUri);
    }

    [Theory]
    [InlineData("", "not set")]
    [InlineData("http://h1/", "amqp:// or amqps://")]
    [InlineData("amqp://u:p@h1/a,amqp://u:other@h2/a", "must share scheme, user, password and virtual host")]
    [InlineData("amqp://u:p@h1:notaport,h2/", "host[:port]")]
    [InlineData("amqp://u:p@h1:99999/", "host[:port]")]
    [InlineData("amqp://u:p@[::1]:5672,h2/", "not IPv6")]
    public void Should_say_what_is_wrong_with_one_that_cannot_be_read(string connectionString, string expected)
    {
        Assert.Null(RabbitMqNodes.TryParse(connectionString, out var problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_never_log_the_password()
    {
        var parsed = RabbitMqNodes.TryParse("amqp://user:s3cret@h1:1,h2:2/v", out _)!;

        Assert.Equal("amqp://h1:1,h2:2/v", parsed.ToString());
    }

    [Fact]
    public void Should_spread_instances_over_the_nodes()
    {
        var parsed = RabbitMqNodes.TryParse("amqp://u:p@h1,h2,h3/", out _)!;

        var firstNodes = Enumerable.Range(0, 3).Select(offset => parsed.InConnectOrder(offset)[0].Host);

        Assert.Equal(["h1", "h2", "h3"], firstNodes);
        Assert.All(Enumerable.Range(0, 3), offset => Assert.Equal(3, parsed.InConnectOrder(offset).Distinct().Count()));
    }
}
