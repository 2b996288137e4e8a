using System.Buffers.Text;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace TaskResults.Benchmarks;

/// <summary>Names on the broker: the service's (see docs/topology.md) and the benchmark's own.</summary>
public static class Names
{
    public const string CheckQueue = "check-task-result";

    /// <summary>The command queue and MassTransit's two beside it, which the service declares with the command queue's type.</summary>
    public static readonly string[] CommandQueues = [CheckQueue, CheckQueue + "_error", CheckQueue + "_skipped"];
    public const string Succeeded = "TaskResults.Contracts:TaskSucceeded";
    public const string Pending = "TaskResults.Contracts:TaskPending";
    public const string Failed = "TaskResults.Contracts:TaskFailed";

    /// <summary>The subscriber queue of the benchmark, bound to the events and the bare loop's output.</summary>
    public const string Events = "bench-events";

    /// <summary>Baseline (a): its input (exchange and queue) and its output exchange.</summary>
    public const string BareIn = "bench-bare-in";
    public const string BareOut = "bench-bare-out";

    public static string WaitQueue(TimeSpan delay) => $"{CheckQueue}-wait-{(long)delay.TotalMilliseconds}ms";
}

/// <summary>The benchmark's connections to its private broker and the plain operations it needs.</summary>
public sealed class Rabbit : IAsyncDisposable
{
    private readonly ConnectionFactory _factory;
    private readonly IConnection _admin;

    private Rabbit(ConnectionFactory factory, IConnection admin)
    {
        _factory = factory;
        _admin = admin;
    }

    public string ServerVersion => Property("version");

    public string ServerPlatform => Property("platform");

    public static async Task<Rabbit> ConnectAsync(Uri uri)
    {
        var factory = new ConnectionFactory { Uri = uri, ClientProvidedName = "bench-admin" };
        return new Rabbit(factory, await factory.CreateConnectionAsync());
    }

    public Task<IConnection> NewConnectionAsync(string name) =>
        new ConnectionFactory { Uri = _factory.Uri, ClientProvidedName = name }.CreateConnectionAsync();

    /// <summary>The event exchanges as MassTransit declares them (fanout, durable), so the listener can bind before the service ran.</summary>
    public async Task DeclareTopologyAsync()
    {
        await using var channel = await _admin.CreateChannelAsync();
        foreach (var exchange in new[] { Names.Succeeded, Names.Pending, Names.Failed, Names.BareOut, Names.BareIn, Names.CheckQueue })
        {
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
        }

        await channel.QueueDeclareAsync(Names.BareIn, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(Names.BareIn, Names.BareIn, "");
    }

    /// <summary>Empties the queues that exist among <paramref name="queues"/>.</summary>
    public async Task PurgeAsync(params IEnumerable<string> queues)
    {
        foreach (var queue in queues)
        {
            // A missing queue closes the channel: one channel per queue.
            await using var channel = await _admin.CreateChannelAsync();
            try { await channel.QueuePurgeAsync(queue); }
            catch (OperationInterruptedException) { }
        }
    }

    /// <summary>Deletes the queues among <paramref name="queues"/> that exist, messages and all.</summary>
    public async Task DeleteQueuesAsync(params IEnumerable<string> queues)
    {
        foreach (var queue in queues)
        {
            await using var channel = await _admin.CreateChannelAsync();
            await channel.QueueDeleteAsync(queue);
        }
    }

    /// <summary>Messages ready in <paramref name="queue"/>, or null when it does not exist.</summary>
    /// <summary>A queue of the benchmark's bound to <paramref name="exchange"/> (a MassTransit message type's, declared as MassTransit does): its count tells how many were published.</summary>
    public async Task DeclareCountingQueueAsync(string exchange, string queue)
    {
        await using var channel = await _admin.CreateChannelAsync();
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(queue, exchange, "");
    }

    public async Task<uint?> MessageCountAsync(string queue)
    {
        await using var channel = await _admin.CreateChannelAsync();
        try { return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount; }
        catch (OperationInterruptedException) { return null; }
    }

    private string Property(string name) =>
        _admin.ServerProperties?.TryGetValue(name, out var value) == true && value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : "?";

    public async ValueTask DisposeAsync()
    {
        await _admin.CloseAsync();
        _admin.Dispose();
    }
}

/// <summary>
/// CheckTaskResult commands as any non-.NET sender writes them (the raw MassTransit JSON envelope,
/// like scripts/send-check.py), published persistent with publisher confirms.
/// </summary>
public sealed class CommandPublisher : IAsyncDisposable
{
    public const int BatchSize = 256;

    private readonly IConnection _connection;
    private readonly IChannel _channel;

    private CommandPublisher(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    public static async Task<CommandPublisher> StartAsync(Rabbit rabbit)
    {
        var connection = await rabbit.NewConnectionAsync("bench-publisher");
        // Confirms tracked by the client; the batches below bound what is outstanding.
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true, outstandingPublisherConfirmationsRateLimiter: null));
        return new CommandPublisher(connection, channel);
    }

    /// <summary>The commands of a run, built before the clock starts.</summary>
    public static Command[] Build(string tag, int count, TimeSpan? deadlineIn = null)
    {
        var deadline = deadlineIn is { } d ? $",\"deadline\":\"{DateTimeOffset.UtcNow.Add(d):O}\"" : "";
        var commands = new Command[count];
        for (var i = 0; i < count; i++)
        {
            var messageId = Guid.NewGuid().ToString();
            var json = $"{{\"messageId\":\"{messageId}\",\"correlationId\":\"{messageId}\",\"conversationId\":\"{messageId}\"," +
                       $"\"messageType\":[\"urn:message:TaskResults.Contracts:CheckTaskResult\"]," +
                       $"\"message\":{{\"jobId\":\"{tag}-{i}\",\"taskType\":\"HD_COLOUR_MIGRATION\"{deadline}}}}}";
            commands[i] = new Command(messageId, Encoding.UTF8.GetBytes(json));
        }

        return commands;
    }

    /// <summary>Publishes every command as fast as confirms allow, in batches; <paramref name="publishedAt"/> gets each send time.</summary>
    public async Task PublishAllAsync(string exchange, Command[] commands, long[]? publishedAt = null, IDictionary<string, object?>? headers = null)
    {
        var batch = new List<ValueTask>(BatchSize);
        for (var i = 0; i < commands.Length; i++)
        {
            if (publishedAt is not null) publishedAt[i] = Stopwatch.GetTimestamp();
            batch.Add(Publish(exchange, commands[i], headers));
            if (batch.Count == BatchSize || i == commands.Length - 1)
            {
                foreach (var confirm in batch) await confirm;
                batch.Clear();
            }
        }
    }

    /// <summary>Publishes at a fixed rate (no waiting for confirms in between); <paramref name="publishedAt"/> gets each send time.</summary>
    public async Task PublishAtRateAsync(string exchange, Command[] commands, long[] publishedAt, double perSecond)
    {
        var confirms = new List<Task>(commands.Length);
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < commands.Length; i++)
        {
            // Sleep until due (Task.Delay wakes about a millisecond late: the commands that fell due
            // meanwhile go out together). No spinning: it would take a core from what is measured.
            var due = start + (long)(i / perSecond * Stopwatch.Frequency);
            for (var now = Stopwatch.GetTimestamp(); now < due; now = Stopwatch.GetTimestamp())
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Max(0.001, (double)(due - now) / Stopwatch.Frequency)));
            }

            publishedAt[i] = Stopwatch.GetTimestamp();
            confirms.Add(Publish(exchange, commands[i], null).AsTask());
        }

        await Task.WhenAll(confirms);
    }

    private ValueTask Publish(string exchange, Command command, IDictionary<string, object?>? headers)
    {
        var properties = new BasicProperties
        {
            ContentType = "application/vnd.masstransit+json",
            DeliveryMode = DeliveryModes.Persistent,
            MessageId = command.MessageId,
            Headers = headers,
        };
        // Mandatory: a command that reaches no queue fails the run instead of vanishing.
        return _channel.BasicPublishAsync(exchange, "", mandatory: true, properties, command.Body);
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.CloseAsync();
        await _connection.CloseAsync();
        _connection.Dispose();
    }
}

public sealed record Command(string MessageId, byte[] Body);

/// <summary>What the listener saw of one run's jobs: when each succeeded, and how many events of each kind.</summary>
public sealed class EventTracker(string tag, int jobs)
{
    private readonly byte[] _prefix = Encoding.UTF8.GetBytes(tag + "-");
    private readonly TaskCompletionSource _allSucceeded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _succeeded;
    private int _pending;
    private int _failed;

    public int Jobs { get; } = jobs;

    public long[] PublishedAt { get; } = new long[jobs];

    public long[] SucceededAt { get; } = new long[jobs];

    public int Succeeded => Volatile.Read(ref _succeeded);

    public int Pending => Volatile.Read(ref _pending);

    public int Failed => Volatile.Read(ref _failed);

    /// <summary>The first publish to the last first success.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(PublishedAt.Min(), SucceededAt.Max());

    public async Task WaitAsync(TimeSpan timeout)
    {
        if (await Task.WhenAny(_allSucceeded.Task, Task.Delay(timeout)) != _allSucceeded.Task)
        {
            throw new TimeoutException($"{Succeeded} of {Jobs} jobs succeeded within {timeout} ({Pending} TaskPending, {Failed} TaskFailed seen).");
        }
    }

    /// <summary>False when the event is about a job of another run.</summary>
    internal bool Record(EventKind kind, ReadOnlySpan<byte> jobId, long now)
    {
        if (!jobId.StartsWith(_prefix) || !Utf8Parser.TryParse(jobId[_prefix.Length..], out int index, out var used)
            || used != jobId.Length - _prefix.Length || (uint)index >= (uint)Jobs)
        {
            return false;
        }

        switch (kind)
        {
            case EventKind.Succeeded:
                // Delivery is at-least-once: count each job once.
                if (Interlocked.CompareExchange(ref SucceededAt[index], now, 0) == 0 && Interlocked.Increment(ref _succeeded) == Jobs)
                {
                    _allSucceeded.TrySetResult();
                }

                break;
            case EventKind.Pending: Interlocked.Increment(ref _pending); break;
            default: Interlocked.Increment(ref _failed); break;
        }

        return true;
    }
}

public enum EventKind { Succeeded, Pending, Failed }

/// <summary>
/// A subscriber as another service would have one: its own queue bound to the event exchanges
/// (and to the bare loop's output), reading only the job id out of each MassTransit envelope.
/// </summary>
public sealed class EventListener : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private volatile EventTracker? _tracker;
    private long _strays;
    private long _bytes;
    private long _count;

    private EventListener(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    /// <summary>Events about no current job (an earlier run's duplicates).</summary>
    public long Strays => Interlocked.Read(ref _strays);

    /// <summary>Mean size of the event bodies received so far.</summary>
    public long MeanEventBytes => Interlocked.Read(ref _count) is var count and > 0 ? Interlocked.Read(ref _bytes) / count : 0;

    public static async Task<EventListener> StartAsync(Rabbit rabbit)
    {
        var connection = await rabbit.NewConnectionAsync("bench-listener");
        var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(Names.Events, durable: false, exclusive: true, autoDelete: true);
        foreach (var exchange in new[] { Names.Succeeded, Names.Pending, Names.Failed, Names.BareOut })
        {
            await channel.QueueBindAsync(Names.Events, exchange, "");
        }

        var listener = new EventListener(connection, channel);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            listener.Receive(delivery.Exchange, delivery.Body.Span);
            return Task.CompletedTask;
        };
        // Auto-ack: the subscriber should cost the broker as little as it can.
        await channel.BasicConsumeAsync(Names.Events, autoAck: true, consumer);
        return listener;
    }

    public void Track(EventTracker? tracker) => _tracker = tracker;

    private void Receive(string exchange, ReadOnlySpan<byte> body)
    {
        var now = Stopwatch.GetTimestamp();
        var kind = exchange switch
        {
            Names.Succeeded or Names.BareOut => EventKind.Succeeded,
            Names.Pending => EventKind.Pending,
            _ => EventKind.Failed,
        };
        if (exchange != Names.BareOut)
        {
            Interlocked.Add(ref _bytes, body.Length);
            Interlocked.Increment(ref _count);
        }

        var tracker = _tracker;
        if (tracker is null || !Envelope.TryJobId(body, out var jobId) || !tracker.Record(kind, jobId, now))
        {
            Interlocked.Increment(ref _strays);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.CloseAsync();
        await _connection.CloseAsync();
        _connection.Dispose();
    }
}

public static class Envelope
{
    /// <summary>The first <c>jobId</c> string in a MassTransit envelope (it only occurs in <c>message</c>).</summary>
    public static bool TryJobId(ReadOnlySpan<byte> json, out ReadOnlySpan<byte> jobId)
    {
        var reader = new Utf8JsonReader(json);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("jobId"u8) && reader.Read()
                    && reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped)
                {
                    jobId = reader.ValueSpan;
                    return true;
                }
            }
        }
        catch (JsonException) { }

        jobId = default;
        return false;
    }
}
