using TaskResults.Service.Api;
using TaskResults.Service.Options;

namespace TaskResults.Tests.Support;

/// <summary>
/// One <see cref="FakeAILabToolsApi"/> shared by the specs of a class (starting Kestrel per row would
/// dominate the run). Every check scripts a fresh job id, so specs never see each other's answers.
/// </summary>
public sealed class FakeApiFixture : IAsyncLifetime
{
    public FakeAILabToolsApi Api { get; private set; } = null!;

    public async Task InitializeAsync() => Api = await FakeAILabToolsApi.StartAsync();

    public async Task DisposeAsync() => await Api.DisposeAsync();

    /// <summary>Scripts a new job that gets <paramref name="answer"/> and asks a fresh client about it once.</summary>
    public async Task<CheckOutcome> CheckAsync(FakeResponse answer, string taskType = TaskTypes.HdColourMigration, Action<AILabToolsOptions>? configure = null,
        TimeProvider? clock = null)
    {
        var jobId = NewJobId();
        Api.Script(jobId, answer);
        return await TestClients.Create(Api.BaseUrl, configure, clock: clock).CheckAsync(jobId, taskType, CancellationToken.None);
    }

    public static string NewJobId() => Guid.NewGuid().ToString("N");
}
