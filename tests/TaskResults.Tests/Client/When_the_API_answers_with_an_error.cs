using Microsoft.Extensions.Time.Testing;
using TaskResults.Service.Api;

namespace TaskResults.Tests.Client;

/// <summary>
/// The error table (shared/reference/ailabtools-api-facts.md, section 4), row by row, on both
/// endpoints: the code decides, not the HTTP status.
/// </summary>
public sealed class When_the_API_answers_with_an_error(FakeApiFixture fixture) : IClassFixture<FakeApiFixture>
{
    // Both endpoints share one reading of the public fields; each row runs against each.
    private static readonly string[] TaskTypesOfBothEndpoints = [TaskTypes.HdColourMigration, TaskTypes.AsyncTask];

    private static readonly (int HttpStatus, string Code)[] TransientRows =
    [
        (429, "EXCEEDING_LIMITS"), (429, "ERROR_BATCH_TASK_LIMIT_EXCEEDED"),
        (500, "UNKNOWN_ERROR"), (500, "SERVICE_INTERNAL_ERROR"), (500, "PROCESSING_FAILURE"),
        (502, "ERROR_GATEWAY"), (502, "AI_SERVICE_ERROR"), (502, "AI_SERVICE_INTERNAL_ERROR"), (502, "FILE_SERVICE_ERROR"), (502, "ERROR_DATA_TRANSFER_FAILED"),
        (503, "AI_SERVICE_FLOW_RESTRICTION"), (503, "ERROR_INSUFFICIENT_RESOURCES"), (503, "ERROR_RESOURCE_UNAVAILABLE"), (503, "ERROR_RESOURCE_IN_TRANSIT"),
        (504, "AI_SERVICE_TIMEOUT"),
    ];

    private static readonly (int HttpStatus, string Code, ApiErrorClass Class)[] PermanentRows =
    [
        (429, "ERROR_NOT_ENOUGH_CREDITS", ApiErrorClass.NotEnoughCredits),
        (401, "ERROR_USER_NOT_EXISTS", ApiErrorClass.BadKeyOrAccount),
        (401, "ERROR_APPLICATIONS_NOT_EXISTS", ApiErrorClass.BadKeyOrAccount),
        (403, "ERROR_USER_LOCKED", ApiErrorClass.BadKeyOrAccount),
        (403, "ERROR_ILLEGAL_OPERATION", ApiErrorClass.BadKeyOrAccount),
        (400, "ERROR_PARAMETERS", ApiErrorClass.BadRequest),
        (400, "MISSING_PARAMETERS", ApiErrorClass.BadRequest),
        (400, "ERROR_INVALID_PARAMETER", ApiErrorClass.BadRequest),
        (400, "PARAMETERS_CANNOT_EMPTY", ApiErrorClass.BadRequest),
        (400, "UNSUPPORTED_PARAMETER_VALUES", ApiErrorClass.BadRequest),
        (404, "ERROR_RESOURCE_NOT_FOUND", ApiErrorClass.JobNotFound),
        (404, "ERROR_CONTENT_NOT_FOUND", ApiErrorClass.JobNotFound),
        (404, "ERROR_AI_NOT_EXISTS", ApiErrorClass.JobNotFound),
        (410, "ERROR_TASK_REVOKED", ApiErrorClass.JobNotFound),
        (410, "ERROR_RESOURCE_RECLAIMED", ApiErrorClass.JobNotFound),
        // The bad-request row ends in "…": other 400 codes are bad requests too.
        (400, "ERROR_IMAGE_FORMAT_NOT_SUPPORTED", ApiErrorClass.BadRequest),
        // "Anything else 4xx, any other code: permanent, keep the raw code and message."
        (418, "ERROR_SOMETHING_NEW", ApiErrorClass.Other),
        (422, "ERROR_SOMETHING_NEW", ApiErrorClass.Other),
        // 429 means two opposite things, so a code the table does not list cannot be read from the status: it is "anything else 4xx".
        (429, "ERROR_SOMETHING_NEW", ApiErrorClass.Other),
    ];

    public static TheoryData<string, int, string> TransientCodes
    {
        get
        {
            var data = new TheoryData<string, int, string>();
            foreach (var taskType in TaskTypesOfBothEndpoints)
            {
                foreach (var (httpStatus, code) in TransientRows) data.Add(taskType, httpStatus, code);
            }

            return data;
        }
    }

    public static TheoryData<string, int, string, ApiErrorClass> PermanentCodes
    {
        get
        {
            var data = new TheoryData<string, int, string, ApiErrorClass>();
            foreach (var taskType in TaskTypesOfBothEndpoints)
            {
                foreach (var (httpStatus, code, errorClass) in PermanentRows) data.Add(taskType, httpStatus, code, errorClass);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(TransientCodes))]
    public async Task Should_be_transient_for_a_code_worth_asking_again(string taskType, int httpStatus, string code)
    {
        var outcome = await fixture.CheckAsync(FakeResponse.Error(httpStatus, code, $"{code} happened."), taskType);

        var transient = Assert.IsType<CheckOutcome.TransientError>(outcome);
        Assert.Equal(new ApiError(code, $"{code} happened."), transient.Error);
        Assert.Equal(new ApiCallInfo(httpStatus, "req-err", "log-err"), outcome.Call);
    }

    [Theory]
    [MemberData(nameof(PermanentCodes))]
    public async Task Should_be_permanent_of_its_class_keeping_the_raw_code_and_message(string taskType, int httpStatus, string code, ApiErrorClass errorClass)
    {
        var outcome = await fixture.CheckAsync(FakeResponse.Error(httpStatus, code, $"{code} happened."), taskType);

        var permanent = Assert.IsType<CheckOutcome.PermanentError>(outcome);
        Assert.Equal(errorClass, permanent.Class);
        Assert.Equal(new ApiError(code, $"{code} happened."), permanent.Error);
        Assert.Equal(new ApiCallInfo(httpStatus, "req-err", "log-err"), outcome.Call);
    }

    public static TheoryData<int, string> ServerErrorsWithoutCode => new()
    {
        { 500, """{"error_code":500,"error_msg":"Internal Server Error"}""" },
        { 503, "{}" },
        { 504, """{"request_id":"r","error_code":504,"error_detail":{"status_code":504,"code":"","message":""}}""" },
    };

    [Theory]
    [MemberData(nameof(ServerErrorsWithoutCode))]
    public async Task Should_be_transient_for_a_5xx_without_a_code(int httpStatus, string body)
    {
        var outcome = await fixture.CheckAsync(new FakeResponse(httpStatus, body));

        var transient = Assert.IsType<CheckOutcome.TransientError>(outcome);
        Assert.Null(transient.Error.Code);
        Assert.Equal(httpStatus, outcome.Call.HttpStatus);
    }

    // Older answers: HTTP 200 on the wire, the status in error_code, only the coarse error_code_str.
    [Theory]
    [InlineData(429, "EXCEEDING_LIMITS", null)]
    [InlineData(503, "AI_SERVICE_FLOW_RESTRICTION", null)]
    [InlineData(429, "ERROR_NOT_ENOUGH_CREDITS", ApiErrorClass.NotEnoughCredits)]
    [InlineData(401, "ERROR_USER_NOT_EXISTS", ApiErrorClass.BadKeyOrAccount)]
    [InlineData(404, "ERROR_RESOURCE_NOT_FOUND", ApiErrorClass.JobNotFound)]
    public async Task Should_classify_an_older_answer_by_error_code_str(int errorCode, string errorCodeStr, ApiErrorClass? permanentClass)
    {
        var outcome = await fixture.CheckAsync(ApiAnswers.OlderError(errorCode, errorCodeStr, "Older message."));

        if (permanentClass is null)
        {
            Assert.Equal(new ApiError(errorCodeStr, "Older message."), Assert.IsType<CheckOutcome.TransientError>(outcome).Error);
        }
        else
        {
            var permanent = Assert.IsType<CheckOutcome.PermanentError>(outcome);
            Assert.Equal(permanentClass, permanent.Class);
            Assert.Equal(new ApiError(errorCodeStr, "Older message."), permanent.Error);
        }

        Assert.Equal(new ApiCallInfo(200, "req-old", "log-old"), outcome.Call);
    }

    [Fact]
    public async Task Should_prefer_error_detail_code_over_error_code_str()
    {
        var outcome = await fixture.CheckAsync(ApiAnswers.Json(429, new
        {
            error_code = 429,
            error_code_str = "EXCEEDING_LIMITS",
            error_msg = "coarse",
            error_detail = new { status_code = 429, code = "ERROR_NOT_ENOUGH_CREDITS", message = "Top up your credits." },
        }));

        var permanent = Assert.IsType<CheckOutcome.PermanentError>(outcome);
        Assert.Equal(ApiErrorClass.NotEnoughCredits, permanent.Class);
        Assert.Equal(new ApiError("ERROR_NOT_ENOUGH_CREDITS", "Top up your credits."), permanent.Error);
    }

    [Fact]
    public async Task Should_keep_the_seconds_of_Retry_After()
    {
        var outcome = await fixture.CheckAsync(FakeResponse.Error(429, "EXCEEDING_LIMITS", "Slow down.").WithHeader("Retry-After", "7"));

        Assert.Equal(TimeSpan.FromSeconds(7), Assert.IsType<CheckOutcome.TransientError>(outcome).RetryAfter);
    }

    [Theory]
    [InlineData(90, 90)]
    [InlineData(-30, 0)]
    public async Task Should_count_a_Retry_After_date_on_the_services_clock(int secondsFromNow, int expectedSeconds)
    {
        // Years away from the real clock: a wait counted on it instead could not come out right.
        var clock = new FakeTimeProvider(new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero));
        var at = clock.GetUtcNow().AddSeconds(secondsFromNow).ToString("r", System.Globalization.CultureInfo.InvariantCulture);

        var outcome = await fixture.CheckAsync(FakeResponse.Error(429, "EXCEEDING_LIMITS", "Slow down.").WithHeader("Retry-After", at), clock: clock);

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), Assert.IsType<CheckOutcome.TransientError>(outcome).RetryAfter);
    }

    [Fact]
    public async Task Should_have_no_Retry_After_when_the_API_sends_none()
    {
        var outcome = await fixture.CheckAsync(FakeResponse.Error(429, "EXCEEDING_LIMITS", "Slow down."));

        Assert.Null(Assert.IsType<CheckOutcome.TransientError>(outcome).RetryAfter);
    }
}
