namespace TaskResults.Service.Extensions;

/// <summary>
/// <c>TaskResults.Service health [url]</c>: asks a running instance whether it is ready and exits
/// 0 or 1. The container image has no curl, so its HEALTHCHECK uses this. Without a URL it asks
/// <c>/health/ready</c> where the service's own configuration says it listens
/// (<see cref="ListeningAddress"/>), so the probe follows the port wherever it is set.
/// </summary>
public static class HealthProbe
{
    public const string ReadyPath = "/health/ready";

    public const int Ready = 0;
    public const int NotReady = 1;

    public static bool IsRequested(string[] args) => args is ["health", ..];

    public static async Task<int> RunAsync(string[] args)
    {
        string? problem = null;
        var url = args.Length > 1 ? args[1] : ConfiguredReadyUrl(out problem);
        if (url is null)
        {
            Console.WriteLine($"Cannot tell where the service listens: {problem}. Pass the address: health http://host:port{ReadyPath}");
            return NotReady;
        }

        // One line either way: Docker keeps it in the container's health log, where "refused" and "503" need telling apart.
        using var http = new HttpClient(LoopbackTrusting()) { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await http.GetAsync(url);
            Console.WriteLine($"{url}: {(int)response.StatusCode} {response.ReasonPhrase}");
            return response.IsSuccessStatusCode ? Ready : NotReady;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            Console.WriteLine($"{url}: not reached ({exception.Message})");
            return NotReady;
        }
    }

    // The probe asks the service on this machine (127.0.0.1), whose certificate names another host or
    // is self-signed: on loopback the certificate proves nothing either way, elsewhere it is checked.
    private static HttpClientHandler LoopbackTrusting() => new()
    {
        ServerCertificateCustomValidationCallback = (request, _, _, errors) =>
            errors == System.Net.Security.SslPolicyErrors.None || request.RequestUri is { IsLoopback: true },
    };

    // The configuration the service itself starts with: the same sources, in the same order.
    private static string? ConfiguredReadyUrl(out string problem)
    {
        var configuration = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory }).Configuration;
        try
        {
            return ListeningAddress.ForProbe(configuration, out problem) is { } address ? $"{address.GetLeftPart(UriPartial.Authority)}{ReadyPath}" : null;
        }
        catch (FormatException exception)
        {
            problem = exception.Message;
            return null;
        }
    }
}
