using TaskResults.Service.Api;

namespace TaskResults.Tests.Client;

/// <summary>Every public field is optional (newer answers leave old ones out), and older answers send numbers as strings.</summary>
public sealed class When_public_fields_are_missing_or_oddly_typed(FakeApiFixture fixture) : IClassFixture<FakeApiFixture>
{
    [Fact]
    public async Task Should_read_an_answer_holding_only_data()
    {
        var outcome = await fixture.CheckAsync(ApiAnswers.Json(200, new { data = new { status = "PROCESS_SUCCESS", result_url = "https://files.example/only-data.png" } }),
            TaskTypes.GenerateCartoonizedImage);

        Assert.Equal(["https://files.example/only-data.png"], Assert.IsType<CheckOutcome.Succeeded>(outcome).ResultUrls);
        Assert.Equal(new ApiCallInfo(200, null, null), outcome.Call);
    }

    [Fact]
    public async Task Should_read_an_async_task_answer_holding_only_its_business_fields()
    {
        var outcome = await fixture.CheckAsync(ApiAnswers.Json(200, new { task_status = 1 }), TaskTypes.AsyncTask);

        Assert.Equal("PROCESSING", Assert.IsType<CheckOutcome.Pending>(outcome).Status);
    }

    public static TheoryData<string> SuccessesWithOddPublicFields => new()
    {
        // error_code_str is not part of the success test: some answers fill it even on success.
        """{"error_code":0,"error_code_str":"SUCCESS","error_detail":{"status_code":200,"code":""},"data":{"status":"QUEUING"}}""",
        // Numbers as strings.
        """{"request_id":"r-1","log_id":"l-1","error_code":"0","error_detail":{"status_code":"200","code":""},"data":{"status":"QUEUING"}}""",
        // Nulls where values were expected.
        """{"request_id":null,"log_id":null,"error_code":null,"error_code_str":null,"error_msg":null,"error_detail":null,"data":{"status":"QUEUING"}}""",
        // error_detail of the wrong type, and an empty code next to the older empty fields.
        """{"error_code":0,"error_code_str":"","error_msg":"","error_detail":"","data":{"status":"QUEUING"}}""",
        // Numeric ids.
        """{"request_id":12345,"log_id":67890,"error_code":0,"data":{"status":"QUEUING"}}""",
    };

    [Theory]
    [MemberData(nameof(SuccessesWithOddPublicFields))]
    public async Task Should_still_read_the_business_fields(string body)
    {
        var outcome = await fixture.CheckAsync(new FakeResponse(200, body));

        Assert.Equal("QUEUING", Assert.IsType<CheckOutcome.Pending>(outcome).Status);
    }

    [Fact]
    public async Task Should_keep_ids_sent_as_numbers_as_text()
    {
        var outcome = await fixture.CheckAsync(new FakeResponse(200, """{"request_id":12345,"log_id":67890,"data":{"status":"QUEUING"}}"""));

        Assert.Equal(new ApiCallInfo(200, "12345", "67890"), outcome.Call);
    }

    [Fact]
    public async Task Should_read_a_task_status_sent_as_a_string()
    {
        var outcome = await fixture.CheckAsync(ApiAnswers.Json(200, new { error_code = "0", task_status = "2", data = new { result_url = "https://files.example/s.png" } }),
            TaskTypes.AsyncTask);

        Assert.Equal(["https://files.example/s.png"], Assert.IsType<CheckOutcome.Succeeded>(outcome).ResultUrls);
    }
}
