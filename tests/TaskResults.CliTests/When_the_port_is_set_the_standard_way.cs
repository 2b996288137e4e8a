using System.Net;

namespace TaskResults.CliTests;

/// <summary>
/// The service listens where the standard ASP.NET Core variables say, as container platforms set them;
/// nothing in its own configuration overrides them. Port 0 asks the system for a port, which the
/// service names in its listening line: no spec here needs a port to stay free.
/// </summary>
public sealed class When_the_port_is_set_the_standard_way
{
    [Fact]
    public async Task ASPNETCORE_URLS_is_where_the_health_endpoints_answer()
    {
        await using var service = await UnreadyService.Start(new Dictionary<string, string> { ["ASPNETCORE_URLS"] = "http://127.0.0.1:0" });

        Assert.True(service.Listening.Host == "127.0.0.1" && service.Listening.Port != 0, $"Listening on {service.Listening}.\n{service.Output}");
        await AssertLiveButNotReady(service);
    }

    [Fact]
    public async Task ASPNETCORE_HTTP_PORTS_is_where_the_health_endpoints_answer()
    {
        await using var service = await UnreadyService.Start(new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = "0" });

        // HTTP_PORTS means every interface; a port chosen by the system is never the 8080 a default would give.
        Assert.True(service.Listening.Host is "[::]" or "0.0.0.0" && service.Listening.Port is not (0 or 8080), $"Listening on {service.Listening}.\n{service.Output}");
        await AssertLiveButNotReady(service);
    }

    // Live: it is this process that answers on that port. Not ready: its broker is not there.
    private static async Task AssertLiveButNotReady(UnreadyService service)
    {
        using var live = await service.Http.GetAsync("/health/live");
        Assert.True(live.StatusCode == HttpStatusCode.OK, $"/health/live: {live.StatusCode}\n{service.Output}");
        using var ready = await service.Http.GetAsync("/health/ready");
        Assert.True(ready.StatusCode == HttpStatusCode.ServiceUnavailable, $"/health/ready: {ready.StatusCode}\n{service.Output}");
    }
}
