using System.Collections.Concurrent;
using System.Text.Json;
using MassTransit;

namespace TaskResults.IntegrationTests.Support;

/// <summary>
/// A subscriber on the real broker, as another service would be: a durable queue of its own
/// (it survives a broker restart) bound to the service's three events. Also sends and publishes
/// commands the way another .NET service would.
/// </summary>
public sealed class EventListener : IAsyncDisposable
{
    private readonly IBusControl _bus;
    private readonly Broker _broker;
    private readonly string _queue;
    private readonly ConcurrentQueue<ConsumeContext> _events = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private EventListener(Broker broker, string queue)
    {
        _broker = broker;
        _queue = queue;
        _bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(broker.Uri);
            cfg.ReceiveEndpoint(queue, e =>
            {
                e.Handler<TaskPending>(Record);
                e.Handler<TaskSucceeded>(Record);
                e.Handler<TaskFailed>(Record);
            });
        });
    }

    public static async Task<EventListener> StartAsync(Broker broker)
    {
        var listener = new EventListener(broker, $"it-events-{Guid.NewGuid():N}");
        await listener._bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        return listener;
    }

    public IBus Bus => _bus;

    public async Task Send(CheckTaskResult command, Guid? correlationId = null, Action<SendContext>? configure = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var endpoint = await _bus.GetSendEndpoint(new Uri("queue:check-task-result"));
        await endpoint.Send(command, context =>
        {
            context.CorrelationId = correlationId ?? NewId.NextGuid();
            configure?.Invoke(context);
        }, timeout.Token);
    }

    /// <summary>The events of type <typeparamref name="T"/> for one job, in arrival order.</summary>
    public IReadOnlyList<ConsumeContext<T>> Events<T>(string jobId) where T : class =>
        _events.OfType<ConsumeContext<T>>().Where(c => JobIdOf(c.Message) == jobId).ToList();

    /// <summary>Every event received so far, serialized: for scanning what subscribers see.</summary>
    public string AllEventsAsJson() =>
        string.Join('\n', _events.Select(e => e.TryGetMessage<TaskPending>(out var p) ? JsonSerializer.Serialize(p.Message)
            : e.TryGetMessage<TaskSucceeded>(out var s) ? JsonSerializer.Serialize(s.Message)
            : e.TryGetMessage<TaskFailed>(out var f) ? JsonSerializer.Serialize(f.Message) : ""));

    /// <summary>Waits for the first event of type <typeparamref name="T"/> for the job, or fails after <paramref name="timeout"/>.</summary>
    public async Task<ConsumeContext<T>> WaitFor<T>(string jobId, TimeSpan timeout) where T : class
    {
        var stopAt = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Events<T>(jobId).FirstOrDefault() is { } found) return found;
            var left = stopAt - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"No {typeof(T).Name} for job {jobId} within {timeout}. Seen: " +
                    string.Join(", ", _events.Select(e => $"{e.GetType().GetGenericArguments().LastOrDefault()?.Name ?? "?"}")));
            }

            await _arrived.WaitAsync(left);
        }
    }

    private Task Record<T>(ConsumeContext<T> context) where T : class
    {
        _events.Enqueue(context);
        _arrived.Release();
        return Task.CompletedTask;
    }

    private static string? JobIdOf(object message) => message.GetType().GetProperty("JobId")?.GetValue(message) as string;

    public async ValueTask DisposeAsync()
    {
        await _bus.StopAsync();
        await using var connection = await _broker.Connect();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeleteAsync(_queue, ifUnused: false, ifEmpty: false);
        await channel.ExchangeDeleteAsync(_queue);
    }
}
