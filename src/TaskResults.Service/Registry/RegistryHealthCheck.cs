using Microsoft.Extensions.Diagnostics.HealthChecks;
using TaskResults.Service.Api;

namespace TaskResults.Service.Registry;

/// <summary>
/// Degraded while the job registry or the shared API budget cannot be reached: checks go on
/// (at-least-once, within this instance's share of the budget), so readiness is not affected;
/// <c>/health</c> shows it.
/// </summary>
public sealed class RegistryHealthCheck(JobChains chains, ApiBudget budget) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(chains.Unavailable
            ? HealthCheckResult.Degraded("the job registry cannot be reached: checking without it")
            : budget is SharedApiThrottle { Unavailable: true }
                ? HealthCheckResult.Degraded("the shared API budget cannot be reached: keeping to this instance's share")
                : HealthCheckResult.Healthy(chains.Enabled ? "the job registry answers" : "no job registry"));
}
