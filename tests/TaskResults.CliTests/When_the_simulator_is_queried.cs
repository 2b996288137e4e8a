using System.Net;
using System.Text.Json;

namespace TaskResults.CliTests;

/// <summary>The simulator keeps the API's contract (shared/reference): the service and the demo rely on it.</summary>
public sealed class When_the_simulator_is_queried(QuickSimulator simulator) : IClassFixture<QuickSimulator>, IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(simulator.BaseUrl), Timeout = TimeSpan.FromSeconds(10) };

    [Theory]
    [InlineData("HD_COLOUR_MIGRATION", "image_list")]
    [InlineData("GENERATE_CARTOONIZED_IMAGE", "result_url")]
    public async Task A_job_is_queuing_then_processing_then_succeeds_with_its_result_URL(string type, string resultField)
    {
        var jobId = Simulator.NewJobId("demo");

        var (statuses, last) = await StatusesUntil(() => QueryImageTask(jobId, type), "PROCESS_SUCCESS");

        Assert.Equal(["QUEUING", "PROCESSING", "PROCESS_SUCCESS"], statuses);
        var result = last.GetProperty("data").GetProperty(resultField);
        var url = result.ValueKind == JsonValueKind.Array ? Assert.Single(result.EnumerateArray()).GetString() : result.GetString();
        Assert.Equal($"{simulator.BaseUrl}/results/{jobId}.png", url);
        Assert.Equal(0, last.GetProperty("error_code").GetInt32());
        Assert.Equal("", last.GetProperty("error_detail").GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(last.GetProperty("request_id").GetString()));
    }

    [Fact]
    public async Task A_task_on_the_common_endpoint_goes_from_task_status_0_to_2_with_its_result_URL()
    {
        var taskId = Simulator.NewJobId("task");

        var (statuses, last) = await StatusesUntil(() => QueryCommonTask(taskId), "2");

        Assert.Equal(["0", "1", "2"], statuses);
        Assert.Equal($"{simulator.BaseUrl}/results/{taskId}.png", last.GetProperty("data").GetProperty("result_url").GetString());
    }

    [Theory]
    [InlineData("fail", "PROCESS_FAILED")]
    [InlineData("timeout", "TIMEOUT_FAILED")]
    [InlineData("retryfail", "LIMIT_RETRY_FAILED")]
    public async Task A_failing_job_ends_in_its_failure_status_and_task_status_3(string prefix, string status)
    {
        var jobId = Simulator.NewJobId(prefix);

        var (statuses, _) = await StatusesUntil(() => QueryImageTask(jobId, "HD_COLOUR_MIGRATION"), status);
        var (taskStatuses, _) = await StatusesUntil(() => QueryCommonTask(jobId), "3");

        // The way there is the successful jobs' (above); here only where it ends.
        Assert.Equal("QUEUING", statuses[0]);
        Assert.Equal(status, statuses[^1]);
        Assert.Equal(["3"], taskStatuses);
    }

    [Fact]
    public async Task A_stuck_job_is_still_processing_long_after_others_have_finished()
    {
        var jobId = Simulator.NewJobId("stuck");
        var finishedByNow = DateTime.UtcNow + simulator.QueuedFor + simulator.ProcessingFor + TimeSpan.FromSeconds(1);

        await StatusesUntil(() => QueryImageTask(jobId, "HD_COLOUR_MIGRATION"), "PROCESSING");
        var statuses = new HashSet<string>();
        while (DateTime.UtcNow < finishedByNow)
        {
            statuses.Add(Status(await QueryImageTask(jobId, "HD_COLOUR_MIGRATION")));
            await Task.Delay(50);
        }

        Assert.Equal(["PROCESSING"], statuses);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    public async Task A_missing_or_wrong_key_is_refused_with_401_ERROR_USER_NOT_EXISTS_on_both_endpoints(string? key)
    {
        foreach (var path in new[] { "/api/image/asyn-task-results?job_id=demo-1&type=HD_COLOUR_MIGRATION", "/api/common/query-async-task-result?task_id=demo-1" })
        {
            var (status, body) = await Get(path, key);

            Assert.Equal(HttpStatusCode.Unauthorized, status);
            var answer = JsonDocument.Parse(body).RootElement;
            Assert.Equal(401, answer.GetProperty("error_code").GetInt32());
            Assert.Equal(401, answer.GetProperty("error_detail").GetProperty("status_code").GetInt32());
            Assert.Equal("ERROR_USER_NOT_EXISTS", answer.GetProperty("error_detail").GetProperty("code").GetString());
            Assert.False(answer.TryGetProperty("data", out _));
        }
    }

    [Theory]
    [InlineData("nocredits", 429, "ERROR_NOT_ENOUGH_CREDITS")]
    [InlineData("gone", 404, "ERROR_RESOURCE_NOT_FOUND")]
    public async Task Some_job_ids_always_get_a_permanent_error(string prefix, int httpStatus, string code)
    {
        var jobId = Simulator.NewJobId(prefix);

        for (var query = 1; query <= 3; query++)
        {
            var (status, body) = await Get($"/api/image/asyn-task-results?job_id={jobId}&type=HD_COLOUR_MIGRATION");
            Assert.Equal(httpStatus, (int)status);
            Assert.Equal(code, JsonDocument.Parse(body).RootElement.GetProperty("error_detail").GetProperty("code").GetString());
        }
    }

    [Theory]
    [InlineData("ratelimit", 429, "EXCEEDING_LIMITS")]
    [InlineData("flaky", 503, "ERROR_RESOURCE_UNAVAILABLE")]
    [InlineData("html", 502, null)]
    public async Task Some_job_ids_get_a_transient_error_first_then_normal_answers(string prefix, int httpStatus, string? code)
    {
        var jobId = Simulator.NewJobId(prefix);

        var (firstStatus, firstBody) = await Get($"/api/common/query-async-task-result?task_id={jobId}");
        var second = await QueryCommonTask(jobId);

        Assert.Equal(httpStatus, (int)firstStatus);
        if (code is null) Assert.StartsWith("<html>", firstBody);
        else Assert.Equal(code, JsonDocument.Parse(firstBody).RootElement.GetProperty("error_detail").GetProperty("code").GetString());
        Assert.Contains(Status(second), new[] { "0", "1" });
    }

    [Fact]
    public async Task A_result_image_is_served_once_the_job_has_succeeded_and_is_gone_after_its_lifetime()
    {
        var jobId = Simulator.NewJobId("demo");
        var image = $"/results/{jobId}.png";
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync(image)).StatusCode);

        await StatusesUntil(() => QueryImageTask(jobId, "HD_COLOUR_MIGRATION"), "PROCESS_SUCCESS");
        using (var served = await _http.GetAsync(image))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Equal("image/png", served.Content.Headers.ContentType?.MediaType);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await served.Content.ReadAsByteArrayAsync())[..4]);
        }

        var expired = await Eventually(async () => (await _http.GetAsync(image)).StatusCode == HttpStatusCode.NotFound, simulator.ResultLifetime * 5);
        Assert.True(expired, $"{image} was still served {simulator.ResultLifetime * 5} after the job succeeded.");
    }

    public void Dispose() => _http.Dispose();

    private Task<JsonElement> QueryImageTask(string jobId, string type) => Query($"/api/image/asyn-task-results?job_id={jobId}&type={type}");

    private Task<JsonElement> QueryCommonTask(string taskId) => Query($"/api/common/query-async-task-result?task_id={taskId}");

    private async Task<JsonElement> Query(string path)
    {
        var (status, body) = await Get(path);
        Assert.True(status == HttpStatusCode.OK, $"{path}: HTTP {(int)status} {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    private async Task<(HttpStatusCode Status, string Body)> Get(string path, string? key = Simulator.ApiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null) request.Headers.Add("ailabapi-api-key", key);
        using var response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>data.status on the seed endpoint, task_status (as text) on the common one.</summary>
    private static string Status(JsonElement answer) =>
        answer.TryGetProperty("task_status", out var taskStatus) ? taskStatus.GetRawText() : answer.GetProperty("data").GetProperty("status").GetString()!;

    /// <summary>Queries every 50 ms until the status is <paramref name="final"/>: the distinct statuses seen, in order, and the last answer.</summary>
    private async Task<(List<string> Statuses, JsonElement Last)> StatusesUntil(Func<Task<JsonElement>> query, string final)
    {
        var statuses = new List<string>();
        var stopAt = DateTime.UtcNow + (simulator.QueuedFor + simulator.ProcessingFor) * 10;
        while (DateTime.UtcNow < stopAt)
        {
            var answer = await query();
            var status = Status(answer);
            if (statuses.Count == 0 || statuses[^1] != status) statuses.Add(status);
            if (status == final) return (statuses, answer);
            await Task.Delay(50);
        }

        throw new TimeoutException($"Never {final}; saw {string.Join(", ", statuses)}.");
    }

    private static async Task<bool> Eventually(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var stopAt = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < stopAt)
        {
            if (await condition()) return true;
            await Task.Delay(50);
        }

        return false;
    }
}
