using System.ComponentModel.DataAnnotations;

namespace TaskResults.Simulator;

/// <summary>How the simulator behaves. Section <c>Simulator</c>.</summary>
public sealed class SimulatorOptions : IValidatableObject
{
    public const string Section = "Simulator";

    /// <summary>The only value of <c>ailabapi-api-key</c> that is accepted. Not a secret: the simulator has nothing to protect.</summary>
    [Required]
    public string ApiKey { get; set; } = "simulator-key";

    /// <summary>How long a job reports QUEUING, from its first query.</summary>
    public TimeSpan QueuedFor { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long it then reports PROCESSING before it finishes.</summary>
    public TimeSpan ProcessingFor { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a result image is served after the job finished (the real API: 24 hours).</summary>
    public TimeSpan ResultLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How many answers the <c>ratelimit-</c>, <c>flaky-</c> and <c>html-</c> jobs fail before they answer normally.</summary>
    [Range(0, 1000)]
    public int TransientErrors { get; set; } = 2;

    /// <summary>Where result URLs point; default: the address the query came to.</summary>
    [Url]
    public string? ResultBaseUrl { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (QueuedFor < TimeSpan.Zero || ProcessingFor < TimeSpan.Zero || ResultLifetime < TimeSpan.Zero)
            yield return new($"{Section}:QueuedFor, ProcessingFor and ResultLifetime must not be negative.");
    }
}
