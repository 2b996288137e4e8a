using TaskResults.Service.Api;

namespace TaskResults.Tests.Resilience;

public sealed class When_the_answer_is_huge_or_slow : IAsyncLifetime
{
    private FakeAILabToolsApi _api = null!;

    public async Task InitializeAsync() => _api = await FakeAILabToolsApi.StartAsync();

    public async Task DisposeAsync() => await _api.DisposeAsync();

    private ClientServices Client(string timeout) => ClientServices.Build(_api, settings =>
    {
        settings["AILabTools:MaxResponseBytes"] = "65536";
        settings["AILabTools:Timeout"] = timeout;
    });

    [Fact]
    public async Task Should_stop_reading_a_huge_answer_at_the_cap_and_call_it_transient()
    {
        var huge = """{"data":{"status":"PROCESS_SUCCESS","result_url":"https://x/""" + new string('a', 20_000_000) + "\"}}";
        _api.Script("huge", new FakeResponse(200, huge));
        // A timeout no loaded machine reaches while sending 64 KB: only the cap can stop this call.
        await using var services = Client("00:00:30");

        var outcome = await services.Client.CheckAsync("huge", TaskTypes.GenerateCartoonizedImage, default);

        var transient = Assert.IsType<CheckOutcome.TransientError>(outcome);
        // Stopped at the cap while reading: the runtime's buffer-limit message names the cap, not the 20 MB sent.
        Assert.DoesNotContain("20000", transient.Error.Message, StringComparison.Ordinal);
        Assert.Contains("65536", transient.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_give_up_on_a_body_that_trickles_past_the_timeout()
    {
        // 300 ms between bytes of a body of dozens: past a 0.5 s timeout however fast the machine.
        _api.Script("slow-body", FakeResponse.Status("PROCESSING") with { Trickle = TimeSpan.FromMilliseconds(300) });
        await using var services = Client("00:00:00.500");

        var outcome = await services.Client.CheckAsync("slow-body", TaskTypes.HdColourMigration, default);

        Assert.Contains("timed out", Assert.IsType<CheckOutcome.TransientError>(outcome).Error.Message, StringComparison.Ordinal);
    }
}
