using System.Text.Json;
using System.Text.Json.Nodes;
using MassTransit.Serialization;

namespace TaskResults.Tests.Consumers;

public sealed class When_an_async_task_succeeds
{
    private const string Data = """
        {
          "result_url": "https://files.example/task/result.png",
          "image_list": ["https://files.example/task/1.png"],
          "preview": "https://files.example/task/preview.jpg",
          "style": "watercolour",
          "seed": 42,
          "meta": { "model": "v2", "nsfw": false }
        }
        """;

    [Fact]
    public async Task Should_publish_the_urls_found_and_the_whole_data_object()
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("task-rich", FakeResponse.TaskStatus(1), FakeResponse.TaskStatus(2, JsonDocument.Parse(Data).RootElement));

        await service.Send(new CheckTaskResult { JobId = "task-rich", TaskType = TaskTypes.AsyncTask });

        var succeeded = (await service.WaitFor<TaskSucceeded>("task-rich")).Context.Message;
        Assert.Equal(TaskTypes.AsyncTask, succeeded.TaskType);
        Assert.Equivalent(new[] { "https://files.example/task/result.png", "https://files.example/task/1.png", "https://files.example/task/preview.jpg" }, succeeded.ResultUrls, strict: true);
        JsonAssert.Equivalent(Data, succeeded.Data);

        // What subscribers receive: MassTransit's JSON (camelCase), with data as an object, not a string.
        var wire = JsonNode.Parse(JsonSerializer.Serialize(succeeded, SystemTextJsonMessageSerializer.Options))!;
        JsonAssert.Equivalent(Data, wire["data"]);
        Assert.Equal("PROCESSING", Assert.Single(service.Events<TaskPending>("task-rich")).Status);
    }
}
