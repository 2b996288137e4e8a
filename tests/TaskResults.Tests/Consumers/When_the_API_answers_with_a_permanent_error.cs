namespace TaskResults.Tests.Consumers;

/// <summary>Asking again will not fix a bad key or an empty account: fail at once, with the API's own words.</summary>
public sealed class When_the_API_answers_with_a_permanent_error
{
    [Theory]
    [InlineData(TaskTypes.HdColourMigration, 401, "ERROR_USER_NOT_EXISTS")]
    [InlineData(TaskTypes.GenerateCartoonizedImage, 429, "ERROR_NOT_ENOUGH_CREDITS")]
    [InlineData(TaskTypes.AsyncTask, 404, "ERROR_RESOURCE_NOT_FOUND")]
    public async Task Should_publish_TaskFailed_API_ERROR_with_the_code_at_once(string taskType, int httpStatus, string code)
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("job-denied", FakeResponse.Error(httpStatus, code, "The API says no."));

        await service.Send(new CheckTaskResult { JobId = "job-denied", TaskType = taskType });

        var failed = (await service.WaitFor<TaskFailed>("job-denied")).Context.Message;
        Assert.Equal(FailureReasons.ApiError, failed.Reason);
        Assert.Equal(code, failed.ErrorCode);
        Assert.Equal("The API says no.", failed.ErrorMessage);
        Assert.Equal(httpStatus, failed.HttpStatus);
        Assert.Equal(1, failed.Attempts);
        Assert.Equal("req-err", failed.RequestId);
        Assert.Equal("log-err", failed.LogId);

        await service.UntilQuiet();
        Assert.Empty(service.Events<TaskPending>("job-denied"));
        Assert.Single(service.Events<TaskFailed>("job-denied"));
        Assert.Equal(1, service.Api.CallsFor("job-denied"));
    }
}
