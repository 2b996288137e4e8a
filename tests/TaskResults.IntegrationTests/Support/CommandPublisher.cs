using System.Text;
using System.Text.Json;
using RabbitMQ.Client;

namespace TaskResults.IntegrationTests.Support;

/// <summary>
/// Sends CheckTaskResult as a service in another language would: the raw MassTransit envelope,
/// persistent, mandatory, confirmed, to the <c>check-task-result</c> exchange. A send that fails (its
/// node went away) is repeated on a new connection, so a command counts as sent once the broker confirmed it.
/// </summary>
public sealed class CommandPublisher(Func<Task<IConnection>> connect) : IAsyncDisposable
{
    private IConnection? _connection;
    private IChannel? _channel;

    /// <summary>Sends one command, trying again for up to <paramref name="patience"/> while the broker refuses.</summary>
    public async Task Send(string jobId, string taskType, TimeSpan? patience = null, string exchange = "check-task-result", string routingKey = "")
    {
        var stopAt = DateTime.UtcNow + (patience ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            try
            {
                var channel = await Channel();
                await channel.BasicPublishAsync(exchange, routingKey, mandatory: true, Properties(), Envelope(jobId, taskType));
                return;
            }
            catch (Exception exception) when (DateTime.UtcNow < stopAt && exception is not OperationCanceledException)
            {
                await Reset();
                await Task.Delay(250);
            }
        }
    }

    /// <summary>Sends many commands on one channel, confirms awaited in parallel batches (a fast start for big scenarios).</summary>
    public async Task SendMany(IEnumerable<string> jobIds, string taskType)
    {
        var channel = await Channel();
        foreach (var batch in jobIds.Chunk(100))
        {
            await Task.WhenAll(batch.Select(job => channel.BasicPublishAsync("check-task-result", "", true, Properties(), Envelope(job, taskType)).AsTask()));
        }
    }

    public static byte[] Envelope(string jobId, string taskType) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
    {
        messageId = Guid.NewGuid(),
        correlationId = Guid.NewGuid(),
        messageType = new[] { "urn:message:TaskResults.Contracts:CheckTaskResult" },
        message = new { jobId, taskType },
    }));

    private static BasicProperties Properties() => new() { ContentType = "application/vnd.masstransit+json", Persistent = true };

    private async Task<IChannel> Channel()
    {
        _connection ??= await connect();
        return _channel ??= await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
    }

    private async Task Reset()
    {
        try { if (_connection is not null) await _connection.DisposeAsync(); }
        catch (Exception) { } // already broken: that is why it is reset
        (_connection, _channel) = (null, null);
    }

    public async ValueTask DisposeAsync() => await Reset();
}
