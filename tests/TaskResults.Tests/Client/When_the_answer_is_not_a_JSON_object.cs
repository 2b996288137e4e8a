using TaskResults.Service.Api;

namespace TaskResults.Tests.Client;

/// <summary>A body that is not a JSON object (a proxy's page, nothing, half an answer) is a transport error, not a job result.</summary>
public sealed class When_the_answer_is_not_a_JSON_object(FakeApiFixture fixture) : IClassFixture<FakeApiFixture>
{
    public static TheoryData<int, string, string> Bodies => new()
    {
        { 502, "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>", "text/html" },
        { 200, "", "application/json" },
        { 200, "Service temporarily unavailable, try again later.", "text/plain" },
        { 200, """[{"status":"PROCESS_SUCCESS"}]""", "application/json" },
        { 200, """{"data":{"status":"PROCESS_SUCCESS","image_list":["https://files.example/1.png""", "application/json" },
        { 200, "null", "application/json" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Should_be_a_transient_error(int httpStatus, string body, string contentType)
    {
        var outcome = await fixture.CheckAsync(FakeResponse.Raw(httpStatus, body, contentType));

        var transient = Assert.IsType<CheckOutcome.TransientError>(outcome);
        Assert.Null(transient.Error.Code);
        Assert.Equal(new ApiCallInfo(httpStatus, null, null), outcome.Call);
    }

    [Fact]
    public async Task Should_be_a_transient_error_when_the_answer_is_larger_than_allowed()
    {
        var images = Enumerable.Range(1, 100).Select(i => $"https://files.example/large/{i:D4}.webp").ToArray();
        var answer = FakeResponse.Status("PROCESS_SUCCESS", imageList: images);
        Assert.True(answer.Body.Length > 2 * 1024, "The answer must be larger than the limit set below.");

        var tooLarge = await fixture.CheckAsync(answer, configure: options => options.MaxResponseBytes = 1024);
        var withinTheDefault = await fixture.CheckAsync(answer);

        Assert.IsType<CheckOutcome.TransientError>(tooLarge);
        Assert.Equal(images, Assert.IsType<CheckOutcome.Succeeded>(withinTheDefault).ResultUrls);
    }
}
