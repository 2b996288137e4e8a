using System.ComponentModel.DataAnnotations;

namespace TaskResults.Service.Options;

/// <summary>When to check a job again. Section <c>Polling</c>.</summary>
public sealed class PollingOptions : IValidatableObject
{
    public const string Section = "Polling";

    /// <summary>Wait after the first pending answer: 5 s, the vendor's advice.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Each further pending answer multiplies the wait by this: 1 keeps it constant, else 1.1 to 10.</summary>
    [Range(1.0, 10.0)]
    public double BackoffFactor { get; set; } = 1.0;

    /// <summary>The wait never grows beyond this.</summary>
    public TimeSpan MaxInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Wait after the first transient error (rate limit, 5xx, timeout); doubles per error in a row.</summary>
    public TimeSpan TransientRetryInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Deadline of a command that names none, counted from its first check: 30 minutes, how long the API keeps an async result queryable.</summary>
    public TimeSpan DefaultDeadline { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>No job is checked longer than this after its first check, whatever deadline its command names: 24 hours, how long the API keeps result files.</summary>
    public TimeSpan MaxDeadline { get; set; } = TimeSpan.FromHours(24);

    public override string ToString() =>
        $"Interval={Interval}, BackoffFactor={BackoffFactor}, MaxInterval={MaxInterval}, TransientRetryInterval={TransientRetryInterval}, DefaultDeadline={DefaultDeadline}, MaxDeadline={MaxDeadline}";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Interval <= TimeSpan.Zero) yield return new($"{Section}:Interval must be positive.", [nameof(Interval)]);
        if (BackoffFactor is > 1.0 and < 1.1) yield return new($"{Section}:BackoffFactor must be 1 or at least 1.1.", [nameof(BackoffFactor)]);
        if (MaxInterval < Interval) yield return new($"{Section}:MaxInterval must be at least Interval.", [nameof(MaxInterval)]);
        if (TransientRetryInterval <= TimeSpan.Zero || TransientRetryInterval > MaxInterval)
            yield return new($"{Section}:TransientRetryInterval must be positive and at most MaxInterval.", [nameof(TransientRetryInterval)]);
        if (DefaultDeadline <= TimeSpan.Zero) yield return new($"{Section}:DefaultDeadline must be positive.", [nameof(DefaultDeadline)]);
        if (MaxDeadline < DefaultDeadline) yield return new($"{Section}:MaxDeadline must be at least DefaultDeadline.", [nameof(MaxDeadline)]);
        // Result files live 24 hours; a week is more than any job needs, and keeps date arithmetic far from its limits.
        if (MaxDeadline > TimeSpan.FromDays(7)) yield return new($"{Section}:MaxDeadline must be at most 7 days.", [nameof(MaxDeadline)]);
        if (Interval > TimeSpan.FromDays(1) || MaxInterval > TimeSpan.FromDays(1)) yield return new($"{Section}:Interval and MaxInterval must be at most a day.", [nameof(MaxInterval)]);
    }
}
