namespace TaskResults.Service.Extensions;

/// <summary>
/// <c>TaskResults.Service health [url]</c>: asks a running instance whether it is ready and exits
/// 0 or 1. The container image has no curl, so its HEALTHCHECK uses this.
/// </summary>
public static class HealthProbe
{
    public static bool IsRequested(string[] args) => args is ["health", ..];

    public static async Task<int> RunAsync(string[] args)
    {
        var url = args.Length > 1 ? args[1] : "http://127.0.0.1:8080/health/ready";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await http.GetAsync(url);
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return 1;
        }
    }
}
