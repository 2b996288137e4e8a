using System.ComponentModel.DataAnnotations;

namespace TaskResults.Service.Admin;

/// <summary>
/// The jobs endpoints and page (<c>/jobs</c>). Section <c>Admin</c>. Off unless <see cref="Token"/> is set; then
/// every request needs it (a bearer token, or the page's sign-in cookie), reads too unless <see cref="OpenReads"/>.
/// </summary>
public sealed class AdminOptions : IValidatableObject
{
    public const string Section = "Admin";

    /// <summary>The token an operator or script shows (<c>Authorization: Bearer …</c>): its own secret, never the AILabTools key. Unset: no endpoints.</summary>
    public string? Token { get; set; }

    /// <summary>Reads (status, lists, the page) without the token, e.g. behind a network that is trusted; cancel still needs it.</summary>
    public bool OpenReads { get; set; }

    /// <summary>Where a job's trace is shown, with <c>{traceId}</c> in it (Jaeger: <c>http://jaeger:16686/trace/{traceId}</c>): the page links to it.</summary>
    public string? TraceUrlTemplate { get; set; }

    /// <summary>How often the page reloads itself.</summary>
    public TimeSpan PageRefresh { get; set; } = TimeSpan.FromSeconds(5);

    public bool Enabled => !string.IsNullOrEmpty(Token);

    /// <summary>The trace viewer's address of <paramref name="traceId"/>, or null without a template or a trace.</summary>
    public Uri? TraceUrl(string? traceId) =>
        TraceUrlTemplate is null || string.IsNullOrEmpty(traceId) ? null : new Uri(TraceUrlTemplate.Replace("{traceId}", Uri.EscapeDataString(traceId)));

    public override string ToString() =>
        Enabled ? $"on (token set), OpenReads={OpenReads}, TraceUrlTemplate={TraceUrlTemplate ?? "(none)"}" : "off (no Admin:Token)";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Token is { Length: > 0 } token && (token.Length < 16 || token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
            yield return new($"{Section}:Token must be at least 16 characters, without spaces (e.g. openssl rand -hex 32).", [nameof(Token)]);
        if (OpenReads && !Enabled) yield return new($"{Section}:OpenReads needs {Section}:Token: without a token the endpoints are off.", [nameof(OpenReads)]);
        if (TraceUrlTemplate is { } template && (!template.Contains("{traceId}", StringComparison.Ordinal)
            || !Uri.TryCreate(template.Replace("{traceId}", "0"), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            yield return new($"{Section}:TraceUrlTemplate must be an http(s) address with {{traceId}} in it.", [nameof(TraceUrlTemplate)]);
        if (PageRefresh < TimeSpan.FromSeconds(1) || PageRefresh > TimeSpan.FromHours(1))
            yield return new($"{Section}:PageRefresh must be between 1 second and an hour.", [nameof(PageRefresh)]);
    }
}
