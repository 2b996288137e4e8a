using TaskResults.Service.Api;

namespace TaskResults.Tests.Resilience;

public sealed class When_the_API_redirects
{
    [Fact]
    public async Task Should_not_follow_so_the_key_never_reaches_another_host()
    {
        await using var api = await FakeAILabToolsApi.StartAsync();
        await using var elsewhere = await FakeAILabToolsApi.StartAsync();
        api.Script("moved", new FakeResponse(302, "").WithHeader("Location", $"{elsewhere.BaseUrl}/api/image/asyn-task-results?job_id=moved&type=HD_COLOUR_MIGRATION"));
        await using var services = ClientServices.Build(api);

        var outcome = await services.Client.CheckAsync("moved", TaskTypes.HdColourMigration, default);

        var permanent = Assert.IsType<CheckOutcome.PermanentError>(outcome);
        Assert.Equal(302, permanent.Call.HttpStatus);
        Assert.Contains("redirect", permanent.Error.Message, StringComparison.Ordinal);
        Assert.Empty(elsewhere.Requests);
    }
}
