using System.Text.Json;
using TaskResults.Service.Api;

namespace TaskResults.Tests.Client;

/// <summary>Outcomes end up in events and logs: the key must not be in any of them, whatever went wrong.</summary>
public sealed class Should_never_put_the_API_key_in_an_outcome(FakeApiFixture fixture) : IClassFixture<FakeApiFixture>
{
    private static readonly Dictionary<string, FakeResponse> AnswersByName = new()
    {
        ["succeeded"] = FakeResponse.Status("PROCESS_SUCCESS", imageList: ["https://files.example/1.png"]),
        ["pending"] = FakeResponse.Status("QUEUING"),
        ["job failed"] = FakeResponse.Status("PROCESS_FAILED"),
        ["permanent error"] = FakeResponse.Error(401, "ERROR_USER_NOT_EXISTS", "The user does not exist."),
        ["transient error"] = FakeResponse.Error(429, "EXCEEDING_LIMITS", "Slow down.").WithHeader("Retry-After", "3"),
        ["HTML page"] = FakeResponse.Raw(502, "<html>Bad Gateway</html>"),
        ["dropped connection"] = ApiAnswers.DroppedConnection,
    };

    public static TheoryData<string> Answers => new(AnswersByName.Keys);

    [Theory]
    [MemberData(nameof(Answers))]
    public async Task Should_leave_the_key_out_of_the_outcome_of(string answer)
    {
        AssertNoKey(await fixture.CheckAsync(AnswersByName[answer]));
    }

    [Fact]
    public async Task Should_leave_the_key_out_of_a_timeout()
    {
        AssertNoKey(await fixture.CheckAsync(FakeResponse.Status("QUEUING") with { Delay = TimeSpan.FromSeconds(2) }, configure: options => options.Timeout = TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task Should_leave_the_key_out_of_a_refused_connection()
    {
        AssertNoKey(await TestClients.CreateForClosedPort().CheckAsync("job-on-a-closed-port", TaskTypes.HdColourMigration, CancellationToken.None));
    }

    private static void AssertNoKey(CheckOutcome outcome)
    {
        Assert.DoesNotContain(FakeAILabToolsApi.ApiKey, JsonSerializer.Serialize(outcome, outcome.GetType()));
        Assert.DoesNotContain(FakeAILabToolsApi.ApiKey, outcome.ToString());
    }
}
