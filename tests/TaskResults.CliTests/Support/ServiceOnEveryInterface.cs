namespace TaskResults.CliTests.Support;

/// <summary>The service on every interface (ASPNETCORE_HTTP_PORTS), on a port the system picks.</summary>
public sealed class ServiceOnEveryInterface : IAsyncLifetime
{
    private UnreadyService? _service;

    public int Port => _service!.Listening.Port;

    public async Task InitializeAsync() => _service = await UnreadyService.Start(new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = "0" });

    public async Task DisposeAsync()
    {
        if (_service is not null) await _service.DisposeAsync();
    }
}
