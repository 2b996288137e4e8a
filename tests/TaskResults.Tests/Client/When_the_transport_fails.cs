using System.Diagnostics;
using TaskResults.Service.Api;

namespace TaskResults.Tests.Client;

/// <summary>No answer at all is a transient error: the job may be fine, the call was not.</summary>
public sealed class When_the_transport_fails(FakeApiFixture fixture) : IClassFixture<FakeApiFixture>
{
    [Fact]
    public async Task Should_be_transient_when_the_connection_is_dropped()
    {
        var outcome = await fixture.CheckAsync(ApiAnswers.DroppedConnection);

        Assert.IsType<CheckOutcome.TransientError>(outcome);
        Assert.Equal(ApiCallInfo.None, outcome.Call);
    }

    [Fact]
    public async Task Should_be_transient_and_give_up_at_the_timeout_when_the_answer_is_slower()
    {
        var clock = Stopwatch.StartNew();

        var outcome = await fixture.CheckAsync(FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/late.png") with { Delay = TimeSpan.FromSeconds(10) },
            TaskTypes.GenerateCartoonizedImage, options => options.Timeout = TimeSpan.FromMilliseconds(300));

        Assert.IsType<CheckOutcome.TransientError>(outcome);
        Assert.Equal(ApiCallInfo.None, outcome.Call);
        // Well before the answer would have come: the client's Timeout ended the call (the fake stops waiting when the client leaves).
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Should_be_transient_when_nothing_listens_on_the_port()
    {
        var outcome = await TestClients.CreateForClosedPort().CheckAsync("job-on-a-closed-port", TaskTypes.HdColourMigration, CancellationToken.None);

        Assert.IsType<CheckOutcome.TransientError>(outcome);
        Assert.Equal(ApiCallInfo.None, outcome.Call);
    }
}
