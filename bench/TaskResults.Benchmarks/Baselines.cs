using System.Diagnostics;
using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace TaskResults.Benchmarks;

/// <summary>
/// Baseline (a): the broker work of one check and nothing else, with RabbitMQ.Client alone: take
/// one persistent command from a durable queue (manual acks, the service's prefetch and
/// concurrency), publish one persistent event of the service's event size with a confirm, ack.
/// </summary>
public sealed class BareBrokerLoop : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly IChannel _consume;
    private readonly IChannel _publish;
    private readonly byte[] _eventHead;
    private readonly byte[] _eventTail;

    private BareBrokerLoop(IConnection connection, IChannel consume, IChannel publish, int eventBytes)
    {
        _connection = connection;
        _consume = consume;
        _publish = publish;
        // An envelope about as large as the service's TaskSucceeded, carrying the job id.
        _eventHead = Encoding.UTF8.GetBytes("{\"messageType\":[\"urn:message:TaskResults.Contracts:TaskSucceeded\"],\"message\":{\"jobId\":\"");
        _eventTail = Encoding.UTF8.GetBytes("\",\"padding\":\"" + new string('x', Math.Max(0, eventBytes - _eventHead.Length - 40)) + "\"}}");
    }

    public static async Task<BareBrokerLoop> StartAsync(Rabbit rabbit, ushort prefetch, int concurrency, int eventBytes)
    {
        var connection = await rabbit.NewConnectionAsync("bench-bare-loop");
        var consume = await connection.CreateChannelAsync(new CreateChannelOptions(false, false, consumerDispatchConcurrency: (ushort)concurrency));
        var publish = await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true, outstandingPublisherConfirmationsRateLimiter: null));
        await consume.BasicQosAsync(0, prefetch, global: false);
        var loop = new BareBrokerLoop(connection, consume, publish, eventBytes);
        var consumer = new AsyncEventingBasicConsumer(consume);
        consumer.ReceivedAsync += loop.Handle;
        await consume.BasicConsumeAsync(Names.BareIn, autoAck: false, consumer);
        return loop;
    }

    private async Task Handle(object sender, BasicDeliverEventArgs delivery)
    {
        Envelope.TryJobId(delivery.Body.Span, out var jobId);
        var body = new byte[_eventHead.Length + jobId.Length + _eventTail.Length];
        _eventHead.CopyTo(body, 0);
        jobId.CopyTo(body.AsSpan(_eventHead.Length));
        _eventTail.CopyTo(body, _eventHead.Length + jobId.Length);

        var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json", DeliveryMode = DeliveryModes.Persistent };
        await _publish.BasicPublishAsync(Names.BareOut, "", mandatory: false, properties, body);
        await _consume.BasicAckAsync(delivery.DeliveryTag, multiple: false);
    }

    public async ValueTask DisposeAsync()
    {
        await _consume.CloseAsync();
        await _publish.CloseAsync();
        await _connection.CloseAsync();
        _connection.Dispose();
    }
}

/// <summary>
/// Baseline (b): the HTTP work of one check and nothing else: the same GET against the same fake
/// API with a plain <see cref="HttpClient"/>, <paramref name="concurrency"/> calls at a time.
/// </summary>
public static class BareHttpLoop
{
    public static async Task<TimeSpan> RunAsync(string baseUrl, string tag, int jobs, int concurrency)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        http.DefaultRequestHeaders.Add("ailabapi-api-key", FakeApi.ApiKey);
        var next = -1;
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            for (var job = Interlocked.Increment(ref next); job < jobs; job = Interlocked.Increment(ref next))
            {
                using var response = await http.GetAsync($"{FakeApi.Path}?job_id={tag}-{job}&type=HD_COLOUR_MIGRATION");
                var body = await response.Content.ReadAsByteArrayAsync();
                if (!response.IsSuccessStatusCode || body.Length == 0) throw new InvalidOperationException($"The fake API answered {(int)response.StatusCode}.");
            }
        })));
        return Stopwatch.GetElapsedTime(start);
    }
}
