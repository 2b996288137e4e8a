using System.ComponentModel.DataAnnotations;

namespace TaskResults.Service.Registry;

/// <summary>Where the job registry keeps what it knows of each job.</summary>
public enum RegistryStore
{
    /// <summary>No registry: every delivery is checked (at-least-once; a duplicate command is a second chain).</summary>
    None,

    /// <summary>In this process: one instance (the <c>check</c> command, local runs).</summary>
    InMemory,

    /// <summary>In Redis (<c>ConnectionStrings:Redis</c>): shared by every instance.</summary>
    Redis,
}

/// <summary>The job registry: one chain of checks per job. Section <c>Registry</c>.</summary>
public sealed class RegistryOptions : IValidatableObject
{
    public const string Section = "Registry";

    public RegistryStore Store { get; set; } = RegistryStore.None;

    /// <summary>The StackExchange.Redis configuration string (<c>host:port,password=…</c>); bound from <c>ConnectionStrings:Redis</c> when not set here.</summary>
    public string? Redis { get; set; }

    /// <summary>How long a finished job is remembered: a command for it within this time gets its terminal event again, without a call.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// A pending job's chain counts as live until its next check is this overdue (or a check runs
    /// this long). A command for a job whose chain is live starts nothing; after that it takes over,
    /// so a chain that died (its command dead-lettered, a queue purged) never leaves the job stuck.
    /// </summary>
    public TimeSpan ChainTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// With Redis, the API budget (MaxRequestsPerSecond, MaxConcurrentRequests) is one for all
    /// instances; while Redis is away each instance keeps to this part of it (1 / the number of
    /// instances keeps the key within its limits).
    /// </summary>
    public double FallbackShare { get; set; } = 0.5;

    /// <summary>Prefix of every Redis key, so several deployments can share a Redis.</summary>
    public string KeyPrefix { get; set; } = "taskresults";

    public override string ToString() =>
        $"Store={Store}, Redis={RedactedRedis}, Retention={Retention}, ChainTimeout={ChainTimeout}, FallbackShare={FallbackShare}, KeyPrefix={KeyPrefix}";

    // The start-up line shows where Redis is, never its password.
    private string RedactedRedis => Redis is null ? "(none)" : string.Join(',', Redis.Split(',').Select(part =>
        part.TrimStart().StartsWith("password=", StringComparison.OrdinalIgnoreCase) ? "password=***" : part));

    // The parser's own message may quote the string, password included: only whether it parses is said.
    private static bool IsRedisConfiguration(string configuration)
    {
        try
        {
            return StackExchange.Redis.ConfigurationOptions.Parse(configuration).EndPoints.Count > 0;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Store == RegistryStore.Redis && string.IsNullOrWhiteSpace(Redis))
            yield return new($"{Section}:Store=Redis needs ConnectionStrings:Redis (or {Section}:Redis).", [nameof(Redis)]);
        else if (Store == RegistryStore.Redis && !IsRedisConfiguration(Redis!))
            yield return new($"ConnectionStrings:Redis is not a StackExchange.Redis configuration string (host:port,password=…,ssl=true).", [nameof(Redis)]);
        if (Retention <= TimeSpan.Zero || Retention > TimeSpan.FromDays(7)) yield return new($"{Section}:Retention must be positive and at most 7 days.", [nameof(Retention)]);
        if (ChainTimeout < TimeSpan.FromSeconds(10) || ChainTimeout > TimeSpan.FromDays(1))
            yield return new($"{Section}:ChainTimeout must be between 10 seconds and a day.", [nameof(ChainTimeout)]);
        if (!(FallbackShare > 0 && FallbackShare <= 1)) yield return new($"{Section}:FallbackShare must be more than 0 and at most 1.", [nameof(FallbackShare)]);
        if (string.IsNullOrWhiteSpace(KeyPrefix) || KeyPrefix.Any(char.IsWhiteSpace)) yield return new($"{Section}:KeyPrefix must be a word without spaces.", [nameof(KeyPrefix)]);
    }
}
