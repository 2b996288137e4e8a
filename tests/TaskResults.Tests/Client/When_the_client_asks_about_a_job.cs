using Microsoft.AspNetCore.WebUtilities;
using TaskResults.Service.Api;

namespace TaskResults.Tests.Client;

/// <summary>The request itself: where it goes, what it names, and the key header, as sent and as received.</summary>
public sealed class When_the_client_asks_about_a_job(FakeApiFixture fixture) : IClassFixture<FakeApiFixture>
{
    [Theory]
    [InlineData(TaskTypes.HdColourMigration)]
    [InlineData(TaskTypes.GenerateCartoonizedImage)]
    public async Task Should_query_the_seed_endpoint_with_job_id_type_and_key(string taskType)
    {
        var jobId = FakeApiFixture.NewJobId();

        var (sent, received) = await Ask(jobId, taskType);

        Assert.Equal("/api/image/asyn-task-results", sent.RequestUri!.AbsolutePath);
        var query = QueryHelpers.ParseQuery(sent.RequestUri.Query);
        Assert.Equal(["job_id", "type"], query.Keys.Order());
        Assert.Equal(jobId, query["job_id"]);
        Assert.Equal(taskType, query["type"]);
        Assert.Equal(HttpMethod.Get, sent.Method);
        Assert.Equal([FakeAILabToolsApi.ApiKey], sent.Headers.GetValues("ailabapi-api-key"));
        // Some gateways refuse a request without them, or answer it with HTML.
        Assert.Equal("application/json", Assert.Single(sent.Headers.Accept).MediaType);
        Assert.Equal("TaskResults", Assert.Single(sent.Headers.UserAgent).Product?.Name);

        Assert.Equal(new RecordedRequest("/api/image/asyn-task-results", jobId, taskType, FakeAILabToolsApi.ApiKey, received.At), received);
    }

    [Fact]
    public async Task Should_query_the_common_endpoint_with_task_id_and_key_for_an_async_task()
    {
        var taskId = FakeApiFixture.NewJobId();

        var (sent, received) = await Ask(taskId, TaskTypes.AsyncTask);

        Assert.Equal("/api/common/query-async-task-result", sent.RequestUri!.AbsolutePath);
        var query = QueryHelpers.ParseQuery(sent.RequestUri.Query);
        Assert.Equal(["task_id"], query.Keys);
        Assert.Equal(taskId, query["task_id"]);
        Assert.Equal([FakeAILabToolsApi.ApiKey], sent.Headers.GetValues("ailabapi-api-key"));

        Assert.Equal(new RecordedRequest("/api/common/query-async-task-result", taskId, null, FakeAILabToolsApi.ApiKey, received.At), received);
    }

    // A job id is the sender's text: characters that mean something in a query must arrive as they were, not add parameters.
    [Theory]
    [InlineData(TaskTypes.HdColourMigration)]
    [InlineData(TaskTypes.AsyncTask)]
    public async Task Should_escape_a_job_id_holding_query_syntax(string taskType)
    {
        var jobId = FakeApiFixture.NewJobId() + "+b/c=d&type=GENERATE_CARTOONIZED_IMAGE#frag%20";

        var (_, received) = await Ask(jobId, taskType);

        Assert.Equal(jobId, received.JobId);
        Assert.Equal(taskType == TaskTypes.AsyncTask ? null : taskType, received.Type);
    }

    // A base URL may hold a path (a gateway's prefix): the endpoint's path goes under it, with or without its trailing slash.
    [Theory]
    [InlineData(TaskTypes.HdColourMigration, "")]
    [InlineData(TaskTypes.HdColourMigration, "/")]
    [InlineData(TaskTypes.AsyncTask, "")]
    public async Task Should_ask_under_the_base_URLs_own_path(string taskType, string trailingSlash)
    {
        var jobId = FakeApiFixture.NewJobId();
        fixture.Api.Script(jobId, FakeResponse.Status("QUEUING"));

        await TestClients.Create(fixture.Api.BaseUrlOf("gateway").TrimEnd('/') + trailingSlash).CheckAsync(jobId, taskType, CancellationToken.None);

        var received = Assert.Single(fixture.Api.Requests, r => r.JobId == jobId);
        var path = taskType == TaskTypes.AsyncTask ? "/gateway/api/common/query-async-task-result" : "/gateway/api/image/asyn-task-results";
        Assert.Equal(("gateway", path), (received.Instance, received.Path));
    }

    // A server or proxy may start its JSON with a byte-order mark: it names the encoding, it is not text.
    [Fact]
    public async Task Should_read_an_answer_that_starts_with_a_byte_order_mark()
    {
        var answer = FakeResponse.Status("PROCESSING");

        var outcome = await fixture.CheckAsync(answer with { Body = "\uFEFF" + answer.Body });

        Assert.Equal("PROCESSING", Assert.IsType<CheckOutcome.Pending>(outcome).Status);
    }

    private async Task<(HttpRequestMessage Sent, RecordedRequest Received)> Ask(string jobId, string taskType)
    {
        var handler = new RecordingHandler();
        fixture.Api.Script(jobId, FakeResponse.Status("QUEUING"));

        await TestClients.Create(fixture.Api.BaseUrl, recorder: handler).CheckAsync(jobId, taskType, CancellationToken.None);

        return (Assert.Single(handler.Requests), Assert.Single(fixture.Api.Requests, r => r.JobId == jobId));
    }
}
