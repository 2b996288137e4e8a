using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TaskResults.Service.Registry;

/// <summary>
/// Degraded while the job registry cannot be reached: checks go on (at-least-once, as without a
/// registry), so readiness is not affected; <c>/health</c> shows it.
/// </summary>
public sealed class RegistryHealthCheck(JobChains chains) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(chains.Unavailable
            ? HealthCheckResult.Degraded("the job registry cannot be reached: checking without it")
            : HealthCheckResult.Healthy(chains.Enabled ? "the job registry answers" : "no job registry"));
}
