using System.ComponentModel.DataAnnotations;

namespace TaskResults.Service.Options;

/// <summary>How to reach the AILabTools API. Section <c>AILabTools</c>.</summary>
public sealed class AILabToolsOptions
{
    public const string Section = "AILabTools";

    [Required, Url]
    public string BaseUrl { get; set; } = "https://www.ailabapi.com";

    /// <summary>Sent as the <c>ailabapi-api-key</c> header. From configuration or environment only; never logged.</summary>
    [Required(ErrorMessage = "AILabTools:ApiKey is not set (environment variable AILabTools__ApiKey).")]
    public string ApiKey { get; set; } = "";

    /// <summary>Total time allowed for one call, connect included.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Answers larger than this are not read: a transient error, not memory exhaustion.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxResponseBytes { get; set; } = 1024 * 1024;

    public override string ToString() => $"BaseUrl={BaseUrl}, ApiKey={(ApiKey.Length > 0 ? "***" : "(not set)")}, Timeout={Timeout}";
}
