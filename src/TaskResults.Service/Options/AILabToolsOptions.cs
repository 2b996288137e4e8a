using System.ComponentModel.DataAnnotations;

namespace TaskResults.Service.Options;

/// <summary>How to reach the AILabTools API. Section <c>AILabTools</c>.</summary>
public sealed class AILabToolsOptions : IValidatableObject
{
    public const string Section = "AILabTools";

    [Required, Url(ErrorMessage = "AILabTools:BaseUrl must be an absolute https:// (or http://) URL.")]
    public string BaseUrl { get; set; } = "https://www.ailabapi.com";

    /// <summary>
    /// Allows an <c>http://</c> BaseUrl to a host other than this machine, which sends the key in clear
    /// text: only for a trusted network (e.g. the simulator in the compose stack).
    /// </summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>Sent as the <c>ailabapi-api-key</c> header. From configuration or environment only; never logged.</summary>
    [Required(ErrorMessage = "AILabTools:ApiKey is not set (environment variable AILabTools__ApiKey).")]
    public string ApiKey { get; set; } = "";

    /// <summary>Total time allowed for one call, connect included.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed to open a connection.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Answers larger than this are not read: a transient error, not memory exhaustion.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxResponseBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Calls per second this instance makes at most, in any one-second window. Instances sharing a
    /// key share the vendor's limit: give each its share. The service halves its own rate when the
    /// API says it is over a limit, and climbs back when it stops saying so.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxRequestsPerSecond { get; set; } = 50;

    /// <summary>Calls in flight at once from this instance.</summary>
    [Range(1, 1000)]
    public int MaxConcurrentRequests { get; set; } = 8;

    /// <summary>Quick retries within one check for a server or network fault (not for rate limits), before the broker-side backoff takes over.</summary>
    [Range(0, 5)]
    public int QuickRetries { get; set; } = 2;

    /// <summary>Failed calls in a row (5xx, timeouts, garbage) after which the service stops calling for <see cref="BreakDuration"/>.</summary>
    [Range(1, 1000)]
    public int BreakAfterFailures { get; set; } = 10;

    /// <summary>How long calls stay off after <see cref="BreakAfterFailures"/>; then one call tests the API again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:30:00")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Uri.TryCreate(BaseUrl, UriKind.Absolute, out var given) && given.Scheme != Uri.UriSchemeHttps && given.Scheme != Uri.UriSchemeHttp)
        {
            // [Url] lets ftp:// through, which the HTTP handler refuses: every check would throw instead.
            yield return new($"{Section}:BaseUrl must be an https:// (or http://) address; it is {given.Scheme}://.", [nameof(BaseUrl)]);
        }

        if (Uri.TryCreate(BaseUrl, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttp && !url.IsLoopback && !AllowInsecureHttp)
        {
            yield return new($"{Section}:BaseUrl {url.GetLeftPart(UriPartial.Authority)} is http://: the API key would cross the network in clear text. " +
                $"Use https://, or set {Section}:AllowInsecureHttp=true on a network you trust.", [nameof(BaseUrl)]);
        }
    }

    public override string ToString() =>
        $"BaseUrl={BaseUrl}{(AllowInsecureHttp ? " (insecure http allowed)" : "")}, ApiKey={(ApiKey.Length > 0 ? "***" : "(not set)")}, Timeout={Timeout}, ConnectTimeout={ConnectTimeout}, " +
        $"MaxRequestsPerSecond={MaxRequestsPerSecond}, MaxConcurrentRequests={MaxConcurrentRequests}, QuickRetries={QuickRetries}, " +
        $"BreakAfterFailures={BreakAfterFailures}, BreakDuration={BreakDuration}";
}
