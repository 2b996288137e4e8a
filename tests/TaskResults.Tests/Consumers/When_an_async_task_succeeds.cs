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
    public async Task Should_publish_the_image_list_as_result_urls_and_the_whole_data_object()
    {
        await using var service = await ServiceHarness.StartAsync();
        service.Api.Script("task-rich", FakeResponse.TaskStatus(1), FakeResponse.TaskStatus(2, JsonDocument.Parse(Data).RootElement));

        await service.Send(new CheckTaskResult { JobId = "task-rich", TaskType = TaskTypes.AsyncTask });

        var succeeded = (await service.WaitFor<TaskSucceeded>("task-rich")).Context.Message;
        Assert.Equal(TaskTypes.AsyncTask, succeeded.TaskType);
        // What the README promises: image_list, else [result_url]; a preview or any other URL stays in data.
        Assert.Equal(["https://files.example/task/1.png"], succeeded.ResultUrls);
        JsonAssert.Equivalent(Data, succeeded.Data);

        // What subscribers receive: MassTransit's JSON (camelCase), with data as an object, not a string.
        var wire = JsonNode.Parse(JsonSerializer.Serialize(succeeded, SystemTextJsonMessageSerializer.Options))!;
        JsonAssert.Equivalent(Data, wire["data"]);
        Assert.Equal("PROCESSING", Assert.Single(service.Events<TaskPending>("task-rich")).Status);
    }

    [Fact]
    public async Task Should_publish_only_the_result_url_when_there_is_no_image_list()
    {
        await using var service = await ServiceHarness.StartAsync();
        var data = """{ "result_url": "https://files.example/task/result.png", "preview": "https://files.example/task/preview.jpg", "source": "http://elsewhere.example/in.png" }""";
        service.Api.Script("task-single", FakeResponse.TaskStatus(2, JsonDocument.Parse(data).RootElement));

        await service.Send(new CheckTaskResult { JobId = "task-single", TaskType = TaskTypes.AsyncTask });

        var succeeded = (await service.WaitFor<TaskSucceeded>("task-single")).Context.Message;
        Assert.Equal(["https://files.example/task/result.png"], succeeded.ResultUrls);
        JsonAssert.Equivalent(data, succeeded.Data);
    }
}
