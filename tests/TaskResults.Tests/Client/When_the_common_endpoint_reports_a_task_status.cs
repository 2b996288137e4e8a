using TaskResults.Service.Api;

namespace TaskResults.Tests.Client;

/// <summary>
/// The common endpoint (ASYNC_TASK): a numeric <c>task_status</c> and, once completed, a <c>data</c>
/// object whose shape depends on the API that created the task.
/// </summary>
public sealed class When_the_common_endpoint_reports_a_task_status(FakeApiFixture fixture) : IClassFixture<FakeApiFixture>
{
    [Theory]
    [InlineData(0, "QUEUED")]
    [InlineData(1, "PROCESSING")]
    // Undocumented values wait for the deadline, raw, rather than being guessed at.
    [InlineData(7, "7")]
    [InlineData(-1, "-1")]
    public async Task Should_be_pending(int taskStatus, string status)
    {
        var outcome = await fixture.CheckAsync(FakeResponse.TaskStatus(taskStatus), TaskTypes.AsyncTask);

        Assert.Equal(status, Assert.IsType<CheckOutcome.Pending>(outcome).Status);
        Assert.Equal(new ApiCallInfo(200, "req-1", "log-1"), outcome.Call);
    }

    [Fact]
    public async Task Should_succeed_with_the_result_url()
    {
        var outcome = await fixture.CheckAsync(FakeResponse.TaskStatus(2, new { result_url = "https://files.example/task/cartoon.png" }), TaskTypes.AsyncTask);

        var succeeded = Assert.IsType<CheckOutcome.Succeeded>(outcome);
        Assert.Equal(["https://files.example/task/cartoon.png"], succeeded.ResultUrls);
        JsonAssert.Equivalent("""{"result_url":"https://files.example/task/cartoon.png"}""", succeeded.Data);
        Assert.Equal(new ApiCallInfo(200, "req-1", "log-1"), outcome.Call);
    }

    [Fact]
    public async Task Should_take_only_the_documented_result_fields_and_keep_the_whole_data()
    {
        const string data = """
            {
              "image_url": "https://files.example/task/main.png",
              "image_list": ["https://files.example/task/1.png", "ftp://files.example/task/x.png", 7, "https://files.example/task/2.png"],
              "result_url": "https://files.example/task/ignored-when-there-is-a-list.png",
              "preview": "https://cdn.example/task/preview.jpg",
              "width": 1024,
              "meta": { "seed": 42 }
            }
            """;

        var outcome = await fixture.CheckAsync(FakeResponse.TaskStatus(2, System.Text.Json.JsonDocument.Parse(data).RootElement), TaskTypes.AsyncTask);

        // image_list's URLs, as the README says: not every http string the data happens to hold.
        var succeeded = Assert.IsType<CheckOutcome.Succeeded>(outcome);
        Assert.Equal(["https://files.example/task/1.png", "https://files.example/task/2.png"], succeeded.ResultUrls);
        JsonAssert.Equivalent(data, succeeded.Data);
    }

    [Fact]
    public async Task Should_find_no_result_file_in_fields_the_API_does_not_document()
    {
        var outcome = await fixture.CheckAsync(FakeResponse.TaskStatus(2, new { image_url = "https://files.example/main.png", preview = "https://cdn.example/p.jpg" }), TaskTypes.AsyncTask);

        Assert.Empty(Assert.IsType<CheckOutcome.Succeeded>(outcome).ResultUrls);
    }

    [Fact]
    public async Task Should_report_task_status_3_as_a_failed_job()
    {
        var outcome = await fixture.CheckAsync(FakeResponse.TaskStatus(3), TaskTypes.AsyncTask);

        var failed = Assert.IsType<CheckOutcome.JobFailed>(outcome);
        Assert.Equal(FailureReasons.ProcessFailed, failed.Reason);
        Assert.Equal("3", failed.Status);
    }
}
