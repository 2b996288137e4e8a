using TaskResults.Service.Api;

namespace TaskResults.Tests.Client;

/// <summary>The business field <c>data.status</c> of the seed endpoint, for both of its task types.</summary>
public sealed class When_the_seed_endpoint_reports_a_status(FakeApiFixture fixture) : IClassFixture<FakeApiFixture>
{
    public static TheoryData<string, string> StatusesOfUnfinishedJobs => new()
    {
        { TaskTypes.HdColourMigration, "QUEUING" },
        { TaskTypes.HdColourMigration, "PROCESSING" },
        { TaskTypes.GenerateCartoonizedImage, "QUEUING" },
        { TaskTypes.GenerateCartoonizedImage, "PROCESSING" },
        // A status the service does not know is pending, raw, so the deadline (not a guess) ends it.
        { TaskTypes.HdColourMigration, "PAUSED_FOR_REVIEW" },
        { TaskTypes.GenerateCartoonizedImage, "PAUSED_FOR_REVIEW" },
    };

    public static TheoryData<string, string> StatusesOfFailedJobs => new()
    {
        { TaskTypes.HdColourMigration, "PROCESS_FAILED" },
        { TaskTypes.HdColourMigration, "TIMEOUT_FAILED" },
        { TaskTypes.HdColourMigration, "LIMIT_RETRY_FAILED" },
        { TaskTypes.GenerateCartoonizedImage, "PROCESS_FAILED" },
        { TaskTypes.GenerateCartoonizedImage, "TIMEOUT_FAILED" },
        { TaskTypes.GenerateCartoonizedImage, "LIMIT_RETRY_FAILED" },
    };

    [Theory]
    [MemberData(nameof(StatusesOfUnfinishedJobs))]
    public async Task Should_be_pending_with_the_raw_status(string taskType, string status)
    {
        var outcome = await fixture.CheckAsync(FakeResponse.Status(status), taskType);

        Assert.Equal(status, Assert.IsType<CheckOutcome.Pending>(outcome).Status);
        Assert.Equal(new ApiCallInfo(200, "req-1", "log-1"), outcome.Call);
    }

    [Fact]
    public async Task Should_succeed_with_the_image_list_of_an_HD_colour_migration()
    {
        string[] images = ["https://files.example/hd/1.webp", "https://files.example/hd/2.webp"];

        var outcome = await fixture.CheckAsync(FakeResponse.Status("PROCESS_SUCCESS", imageList: images), TaskTypes.HdColourMigration);

        var succeeded = Assert.IsType<CheckOutcome.Succeeded>(outcome);
        Assert.Equal(images, succeeded.ResultUrls);
        JsonAssert.Equivalent("""{"status":"PROCESS_SUCCESS","image_list":["https://files.example/hd/1.webp","https://files.example/hd/2.webp"]}""", succeeded.Data);
        Assert.Equal(new ApiCallInfo(200, "req-1", "log-1"), outcome.Call);
    }

    [Fact]
    public async Task Should_succeed_with_the_result_url_of_a_cartoon()
    {
        var outcome = await fixture.CheckAsync(FakeResponse.Status("PROCESS_SUCCESS", resultUrl: "https://files.example/cartoon.png"), TaskTypes.GenerateCartoonizedImage);

        var succeeded = Assert.IsType<CheckOutcome.Succeeded>(outcome);
        Assert.Equal(["https://files.example/cartoon.png"], succeeded.ResultUrls);
        JsonAssert.Equivalent("""{"status":"PROCESS_SUCCESS","result_url":"https://files.example/cartoon.png"}""", succeeded.Data);
        Assert.Equal(new ApiCallInfo(200, "req-1", "log-1"), outcome.Call);
    }

    [Theory]
    [MemberData(nameof(StatusesOfFailedJobs))]
    public async Task Should_report_the_job_failed_with_the_status_as_reason(string taskType, string status)
    {
        var outcome = await fixture.CheckAsync(FakeResponse.Status(status), taskType);

        var failed = Assert.IsType<CheckOutcome.JobFailed>(outcome);
        Assert.Equal(status, failed.Reason);
        Assert.Equal(status, failed.Status);
        Assert.Equal(new ApiCallInfo(200, "req-1", "log-1"), outcome.Call);
    }
}
