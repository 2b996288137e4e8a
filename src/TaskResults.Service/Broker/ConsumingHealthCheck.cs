using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TaskResults.Service.Broker;

/// <summary>Ready only while the broker topology is declared and this instance consumes <c>check-task-result</c>.</summary>
public sealed class ConsumingHealthCheck(BrokerTopology topology, BusSupervisor supervisor) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult((topology.Problem ?? supervisor.NotConsumingBecause) is { } problem
            ? HealthCheckResult.Unhealthy($"not consuming {CommandQueue.Name}: {problem}")
            : HealthCheckResult.Healthy($"consuming {CommandQueue.Name}"));
}
