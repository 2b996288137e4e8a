using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TaskResults.Service.Admin;
using TaskResults.Service.Extensions;
using TaskStatus = TaskResults.Contracts.TaskStatus;

namespace TaskResults.Tests.Admin;

/// <summary>
/// The jobs endpoints (issue 14) on a real Kestrel port, the in-memory registry and bus: status, list, cancel,
/// the OpenAPI document; every request without the token refused with nothing revealed; cancel behind the
/// token even when reads are open; bad values and a missing registry answered clearly.
/// </summary>
public sealed class When_jobs_are_seen_over_HTTP
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Long between checks: a job stays pending, with one check made, while the spec looks at it.
    private static Task<ServiceHarness> Service(Action<Dictionary<string, string?>>? configure = null) =>
        ServiceHarness.WithJobEndpointsAsync(TimeSpan.FromMinutes(1), configure);

    private static async Task Pending(ServiceHarness service, string jobId, string taskType = TaskTypes.HdColourMigration)
    {
        service.Api.Script(jobId, FakeResponse.Status("QUEUING"));
        await service.Send(new CheckTaskResult { JobId = jobId, TaskType = taskType });
        await service.WaitFor<TaskPending>(jobId);
    }

    [Fact]
    public async Task Should_answer_a_jobs_status_with_its_checks()
    {
        await using var service = await Service();
        await Pending(service, "http-status");

        using var response = await service.JobsClient().GetAsync("/jobs/HD_COLOUR_MIGRATION/http-status");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var status = (await response.Content.ReadFromJsonAsync<TaskStatus>(Json))!;
        Assert.Equal((TaskStates.Pending, "QUEUING", 1), (status.State, status.LastStatus, status.Attempts));
        var check = Assert.Single(status.Checks!);
        Assert.Equal((1, "QUEUING", TaskStates.Pending), (check.Attempt, check.Status, check.State));
        Assert.NotNull(status.NextCheckAt);
    }

    [Fact]
    public async Task Should_list_pending_jobs_newest_first_a_page_at_a_time()
    {
        await using var service = await Service();
        foreach (var jobId in new[] { "page-1", "page-2", "page-3" }) await Pending(service, jobId);
        using var client = service.JobsClient();

        var first = (await client.GetFromJsonAsync<JobList>("/jobs?state=pending&limit=2", Json))!;
        Assert.Equal(["page-3", "page-2"], first.Jobs.Select(job => job.JobId));
        Assert.All(first.Jobs, job => Assert.Null(job.Checks));
        var second = (await client.GetFromJsonAsync<JobList>($"/jobs?state=pending&limit=2&cursor={first.Next}", Json))!;
        Assert.Equal(["page-1"], second.Jobs.Select(job => job.JobId));
        Assert.Null(second.Next);
        Assert.Empty((await client.GetFromJsonAsync<JobList>("/jobs?state=succeeded", Json))!.Jobs);
        Assert.Empty((await client.GetFromJsonAsync<JobList>("/jobs?taskType=ASYNC_TASK", Json))!.Jobs);
    }

    [Fact]
    public async Task Should_cancel_a_pending_job_and_publish_its_TaskFailed_at_once()
    {
        await using var service = await Service();
        await Pending(service, "http-cancel");
        using var client = service.JobsClient();

        using var response = await client.PostAsJsonAsync("/jobs/HD_COLOUR_MIGRATION/http-cancel/cancel", new CancelRequest("no longer needed"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = (await response.Content.ReadFromJsonAsync<TaskCancellation>(Json))!;
        Assert.Equal((CancelOutcomes.Cancelled, TaskStates.Cancelled), (answer.Outcome, answer.Status.State));
        var failed = (await service.WaitFor<TaskFailed>("http-cancel")).Context.Message;
        Assert.Equal((FailureReasons.Cancelled, "no longer needed"), (failed.Reason, failed.ErrorMessage));
        Assert.Equal(TaskStates.Cancelled, (await client.GetFromJsonAsync<TaskStatus>("/jobs/HD_COLOUR_MIGRATION/http-cancel", Json))!.State);

        // Again: it was cancelled before. A job never seen: 404, nothing published.
        using var again = await client.PostAsync("/jobs/HD_COLOUR_MIGRATION/http-cancel/cancel", null);
        Assert.Equal(CancelOutcomes.AlreadyCancelled, (await again.Content.ReadFromJsonAsync<TaskCancellation>(Json))!.Outcome);
        using var unknown = await client.PostAsync("/jobs/HD_COLOUR_MIGRATION/never-seen/cancel", null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(CancelOutcomes.Unknown, (await unknown.Content.ReadFromJsonAsync<TaskCancellation>(Json))!.Outcome);
        Assert.Empty(service.Events<TaskFailed>("never-seen"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-the-token-at-all-0123456789")]
    [InlineData(ServiceHarness.AdminToken + "x")]
    public async Task Should_refuse_every_request_without_the_token_revealing_nothing(string? token)
    {
        await using var service = await Service();
        await Pending(service, "secret-job");
        using var client = service.JobsClient(token);

        foreach (var request in new[]
        {
            new HttpRequestMessage(HttpMethod.Get, "/jobs?state=pending"),
            new HttpRequestMessage(HttpMethod.Get, "/jobs/HD_COLOUR_MIGRATION/secret-job"),
            new HttpRequestMessage(HttpMethod.Get, "/jobs/HD_COLOUR_MIGRATION/no-such-job"),
            new HttpRequestMessage(HttpMethod.Post, "/jobs/HD_COLOUR_MIGRATION/secret-job/cancel"),
            new HttpRequestMessage(HttpMethod.Get, "/jobs/openapi.json"),
            new HttpRequestMessage(HttpMethod.Get, "/jobs/") { Headers = { { "Accept", "text/html" } } },
        })
        {
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.DoesNotContain("secret-job", body);
            Assert.DoesNotContain("QUEUING", body);
        }

        Assert.Empty(service.Events<TaskFailed>("secret-job"));
        Assert.Equal(TaskStates.Pending, (await service.JobsClient().GetFromJsonAsync<TaskStatus>("/jobs/HD_COLOUR_MIGRATION/secret-job", Json))!.State);
    }

    [Fact]
    public async Task Should_keep_cancel_behind_the_token_when_reads_are_open()
    {
        await using var service = await Service(settings => settings["Admin:OpenReads"] = "true");
        await Pending(service, "open-reads");
        using var anyone = service.JobsClient(token: null);

        Assert.Equal(TaskStates.Pending, (await anyone.GetFromJsonAsync<TaskStatus>("/jobs/HD_COLOUR_MIGRATION/open-reads", Json))!.State);
        Assert.Single((await anyone.GetFromJsonAsync<JobList>("/jobs", Json))!.Jobs);
        using var refused = await anyone.PostAsync("/jobs/HD_COLOUR_MIGRATION/open-reads/cancel", null);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Empty(service.Events<TaskFailed>("open-reads"));
    }

    [Fact]
    public async Task Should_answer_a_script_posting_a_form_with_the_outcome_and_refuse_a_body_it_cannot_read()
    {
        await using var service = await Service();
        await Pending(service, "form-cancel");
        using var client = service.JobsClient();

        using var bad = await client.PostAsync("/jobs/HD_COLOUR_MIGRATION/form-cancel/cancel", new StringContent("{\"reason\": ", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Empty(service.Events<TaskFailed>("form-cancel"));

        using var form = await client.PostAsync("/jobs/HD_COLOUR_MIGRATION/form-cancel/cancel", new FormUrlEncodedContent([new("reason", "from a script")]));
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        Assert.Equal(CancelOutcomes.Cancelled, (await form.Content.ReadFromJsonAsync<TaskCancellation>(Json))!.Outcome);
        Assert.Equal("from a script", (await service.WaitFor<TaskFailed>("form-cancel")).Context.Message.ErrorMessage);
    }

    [Theory]
    [InlineData("/jobs?state=sleeping", "state must be one of")]
    [InlineData("/jobs?state=succeeded,failed", "state must be one of")]
    [InlineData("/jobs?cursor=bm90IGEgY3Vyc29y", "cursor must be")]
    [InlineData("/jobs?state=1", "state must be one of")]
    [InlineData("/jobs?limit=0", "limit must be")]
    [InlineData("/jobs?limit=501", "limit must be")]
    [InlineData("/jobs?cursor=-3", "cursor must be")]
    [InlineData("/jobs?taskType=VIDEO", "taskType must be one of")]
    [InlineData("/jobs/VIDEO/some-job", "TaskType must be one of")]
    public async Task Should_answer_a_bad_value_with_400_and_why(string path, string why)
    {
        await using var service = await Service();

        using var response = await service.JobsClient().GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(why, (await response.Content.ReadFromJsonAsync<AdminProblem>(Json))!.Message);
    }

    [Fact]
    public async Task Should_say_clearly_that_nothing_is_known_without_a_registry()
    {
        await using var service = await Service(settings => settings["Registry:Store"] = "None");

        using var list = await service.JobsClient().GetAsync("/jobs");
        using var status = await service.JobsClient().GetAsync("/jobs/HD_COLOUR_MIGRATION/any-job");

        Assert.Equal((HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable), (list.StatusCode, status.StatusCode));
        Assert.Contains("Registry:Store=None", (await list.Content.ReadFromJsonAsync<AdminProblem>(Json))!.Message);
    }

    [Fact]
    public async Task Should_describe_the_endpoints_in_an_OpenAPI_document()
    {
        await using var service = await Service();

        using var document = JsonDocument.Parse(await service.JobsClient().GetStringAsync("/jobs/openapi.json"));

        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/jobs", out _) || paths.TryGetProperty("/jobs/", out _), paths.ToString());
        Assert.True(paths.GetProperty("/jobs/{taskType}/{jobId}").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/jobs/{taskType}/{jobId}/cancel").TryGetProperty("post", out _));
    }

    [Fact]
    public async Task Should_encode_what_a_sender_wrote_on_the_page()
    {
        await using var service = await Service();
        const string hostile = "<script>alert('x')</script>";
        await Pending(service, hostile);
        using var client = service.JobsClient();
        client.DefaultRequestHeaders.Accept.ParseAdd("text/html");

        var list = await client.GetStringAsync("/jobs/");
        var detail = await client.GetStringAsync("/jobs/HD_COLOUR_MIGRATION/" + Uri.EscapeDataString(hostile));

        Assert.DoesNotContain(hostile, list);
        Assert.DoesNotContain(hostile, detail);
        Assert.Contains("&lt;script&gt;", list);
        Assert.Contains("QUEUING", detail);
    }

    [Fact]
    public async Task Should_refuse_the_AILabTools_key_as_the_token()
    {
        var settings = new Dictionary<string, string?> { ["AILabTools:ApiKey"] = FakeAILabToolsApi.ApiKey, ["Admin:Token"] = FakeAILabToolsApi.ApiKey };
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .AddTaskResultsCore()
            .AddJobEndpoints();
        await using var provider = services.BuildServiceProvider();

        var refused = Assert.Throws<OptionsValidationException>(() =>
            provider.GetRequiredService<IOptions<AdminOptions>>().Value);

        Assert.Contains("not the AILabTools key", refused.Message);
        Assert.DoesNotContain(FakeAILabToolsApi.ApiKey, refused.Message);
    }

    [Fact]
    public async Task Should_not_listen_at_all_without_a_token()
    {
        await using var service = await Service(settings => settings["Admin:Token"] = null);

        using var response = await service.JobsClient().GetAsync("/jobs");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
