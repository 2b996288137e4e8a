using TaskResults.IntegrationTests.Support;
using Xunit.Abstractions;

namespace TaskResults.IntegrationTests;

/// <summary>
/// Two service instances on a 3-node cluster, a thousand jobs pending, one node killed with kill -9
/// for 30 s while commands keep coming: nothing is lost, every instance consumes again within 30 s,
/// readiness never claims a consumer that is not there, and checks never stop for 30 s while a
/// majority of the nodes is up.
/// </summary>
public sealed class When_a_cluster_node_is_lost(Cluster cluster, ITestOutputHelper output) : ClusterScenario(cluster)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Should_lose_nothing_when_the_node_leading_the_command_queue_goes()
    {
        var report = await LoseANode("leader", async () => (await Cluster.Leaders(TaskResultsEndpoints.CommandQueue))[TaskResultsEndpoints.CommandQueue]);
        AssertSurvived(report);
    }

    [Fact]
    public async Task Should_lose_nothing_when_a_node_that_leads_no_queue_goes()
    {
        var report = await LoseANode("follower", async () =>
        {
            var node = Cluster.Nodes[^1];
            await Cluster.MoveLeadersOff(node, "");
            Assert.DoesNotContain(node, (await Cluster.Leaders("")).Values);
            return node;
        });
        AssertSurvived(report);
    }

    [Fact]
    public async Task Should_lose_nothing_when_the_node_an_instance_is_connected_to_goes()
    {
        var report = await LoseANode("connected", async () =>
            await Cluster.NodeOfConnection(Instances["a"].BusConnectionName) ?? throw new InvalidOperationException("instance a has no bus connection"));
        Assert.Contains("a", report.InstancesOnNode);
        AssertSurvived(report);
        // It lost its connection, and said so until it had another.
        Assert.True(report.NotReadyPerInstance["a"] > TimeSpan.Zero, $"Instance a never said it was not ready.\n{report}");
    }

    private void AssertSurvived(OutageReport report)
    {
        output.WriteLine(report.ToString());
        Assert.True(report.Lost == 0, $"{report.Lost} jobs had no terminal event.\n{report}\n{report.ServiceOutput}");
        Assert.True(report.LongestGapInChecks < Bound, $"No check for {report.LongestGapInChecks} with a majority of nodes up.\n{report}\n{report.ServiceOutput}");
        foreach (var (instance, gap) in report.LongestGapPerInstance)
        {
            Assert.True(gap < Bound, $"Instance {instance} made no check for {gap}.\n{report}\n{report.ServiceOutput}");
            Assert.True(report.ReadyWhileNotConsuming[instance] == TimeSpan.Zero,
                $"Instance {instance} said ready for {report.ReadyWhileNotConsuming[instance]} while it did not consume.\n{report}\n{report.ServiceOutput}");
        }
    }
}
