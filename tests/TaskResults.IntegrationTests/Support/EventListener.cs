using System.Collections.Concurrent;
using System.Text.Json;
using MassTransit;
using RabbitMQ.Client;

namespace TaskResults.IntegrationTests.Support;

/// <summary>
/// A subscriber on the real broker, as another service would be: a durable quorum queue of its own
/// (it survives a broker restart and the loss of a cluster node) bound to the service's three
/// events. Also sends and publishes commands the way another .NET service would.
/// </summary>
public sealed class EventListener : IAsyncDisposable
{
    private readonly IBusControl _bus;
    private readonly Func<Task<IConnection>> _connect;
    private readonly string _queue;
    private readonly ConcurrentQueue<ConsumeContext> _events = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private EventListener(IReadOnlyList<Uri> nodes, Func<Task<IConnection>> connect, string queue)
    {
        _connect = connect;
        _queue = queue;
        _bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(nodes[0], host =>
            {
                if (nodes.Count > 1) host.UseCluster(cluster => { foreach (var node in nodes) cluster.Node($"{node.Host}:{node.Port}"); });
            });
            cfg.ReceiveEndpoint(queue, e =>
            {
                e.SetQuorumQueue();
                e.Handler<TaskPending>(Record);
                e.Handler<TaskSucceeded>(Record);
                e.Handler<TaskFailed>(Record);
                e.Handler<TaskResultsArchived>(Record);
                e.Handler<TaskResultsArchiveFailed>(Record);
            });
        });
    }

    public static Task<EventListener> StartAsync(Broker broker) => StartAsync([broker.Uri], broker.Connect);

    public static Task<EventListener> StartAsync(Cluster cluster) =>
        StartAsync(cluster.Nodes.Select(n => new Uri($"amqp://guest:guest@127.0.0.1:{n.Port}/")).ToList(), () => cluster.Connect());

    private static async Task<EventListener> StartAsync(IReadOnlyList<Uri> nodes, Func<Task<IConnection>> connect)
    {
        var listener = new EventListener(nodes, connect, $"it-events-{Guid.NewGuid():N}");
        await listener._bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        return listener;
    }

    public IBus Bus => _bus;

    /// <summary>Every event received so far.</summary>
    public IReadOnlyCollection<ConsumeContext> All => _events;

    /// <summary>Sends the command as the README tells .NET services to: to the command queue's exchange.</summary>
    public async Task Send(CheckTaskResult command, Guid? correlationId = null, Action<SendContext>? configure = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var endpoint = await _bus.GetSendEndpoint(TaskResultsEndpoints.CheckTaskResult);
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

    /// <summary>Waits until every job has an event of type <typeparamref name="T"/>, for at most <paramref name="timeout"/> in all; returns the jobs that have none.</summary>
    public async Task<IReadOnlyList<string>> Missing<T>(IEnumerable<string> jobIds, TimeSpan timeout) where T : class
    {
        var stopAt = DateTime.UtcNow + timeout;
        var missing = new List<string>();
        foreach (var job in jobIds)
        {
            var left = stopAt - DateTime.UtcNow;
            try { await WaitFor<T>(job, left > TimeSpan.Zero ? left : TimeSpan.Zero); }
            catch (TimeoutException) { missing.Add(job); }
        }

        return missing;
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
        await using var connection = await _connect();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeleteAsync(_queue, ifUnused: false, ifEmpty: false);
        await channel.ExchangeDeleteAsync(_queue);
    }
}
