namespace TaskResults.Service.Extensions;

/// <summary>
/// Where the service's HTTP server listens, read from the configuration the way ASP.NET Core reads it
/// (<c>Kestrel:Endpoints</c>, then <c>urls</c>, then <c>http_ports</c>, then Kestrel's default), as an
/// address a probe on the same machine can call. Configuration already folds <c>ASPNETCORE_URLS</c>,
/// <c>URLS</c> and a <c>Urls</c> setting into <c>urls</c>, and <c>ASPNETCORE_HTTP_PORTS</c> and
/// <c>HTTP_PORTS</c> into <c>http_ports</c>.
/// </summary>
public static class ListeningAddress
{
    /// <summary>Kestrel's own choice when nothing is configured.</summary>
    public const string KestrelDefault = "http://localhost:5000";

    /// <summary>The first http address the service listens on, or null with the reason in <paramref name="problem"/>.</summary>
    public static Uri? ForProbe(IConfiguration configuration, out string problem)
    {
        var (addresses, source) = Configured(configuration);
        var parsed = addresses.Select(BindingAddress.Parse).Where(a => !a.IsUnixPipe).ToList();
        // https is for callers from elsewhere; a probe on this machine need not check a certificate.
        var address = parsed.FirstOrDefault(a => a.Scheme == "http") ?? parsed.FirstOrDefault();
        if (address is null)
        {
            problem = $"{source} names no TCP address";
            return null;
        }

        if (address.Port == 0)
        {
            problem = $"{source} asks for port 0, whichever port the system picks";
            return null;
        }

        problem = "";
        return new UriBuilder(address.Scheme, ProbeHost(address.Host), address.Port).Uri;
    }

    private static (IReadOnlyList<string> Addresses, string Source) Configured(IConfiguration configuration)
    {
        var endpoints = configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>().ToList();
        if (endpoints.Count > 0) return (endpoints, "Kestrel:Endpoints");
        if (configuration["urls"] is { Length: > 0 } urls) return (Split(urls), "ASPNETCORE_URLS (or URLS, Urls)");
        if (configuration["http_ports"] is { Length: > 0 } ports) return (Split(ports).Select(port => $"http://*:{port}").ToList(), "ASPNETCORE_HTTP_PORTS (or HTTP_PORTS)");
        return ([KestrelDefault], "Kestrel's default");
    }

    private static List<string> Split(string list) => [.. list.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    // A server listening on every interface answers on loopback too; the wildcard itself is not an address to call.
    private static string ProbeHost(string host) => host is "*" or "+" or "0.0.0.0" or "[::]" or "::" ? "127.0.0.1" : host;
}
