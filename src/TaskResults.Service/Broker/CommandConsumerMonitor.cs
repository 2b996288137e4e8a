using System.Collections.Concurrent;
using MassTransit;
using MassTransit.RabbitMqTransport;
using RabbitMQ.Client;

namespace TaskResults.Service.Broker;

/// <summary>
/// What MassTransit says about this instance's consumer of <c>check-task-result</c>: whether its
/// receive endpoint is ready (a consumer registered on the broker), when a delivery last arrived,
/// and the deliveries in flight, so a consumer that is registered but receives nothing, or whose
/// finished checks cannot get their events out, can be told apart from an idle one (see <see cref="BusSupervisor"/>).
/// It also keeps the word on the instance's other receive endpoints (<c>task-results-control</c>,
/// <c>archive-task-results</c>, the bus's own), which MassTransit reconnects after the same backoff.
/// </summary>
public sealed class CommandConsumerMonitor(TimeProvider clock) : IReceiveEndpointObserver, IReceiveObserver
{
    private readonly object _lock = new();
    private const long Running = long.MinValue;

    // In flight: each delivery, and when its check finished (Running until then).
    private readonly ConcurrentDictionary<ReceiveContext, long> _inFlight = new(ReferenceEqualityComparer.Instance);
    private bool _ready;
    private string _state = "not started";
    private IChannel? _consumerChannel;
    private long _lastDelivery = clock.GetTimestamp();
    private readonly ConcurrentDictionary<Uri, OtherEndpoint> _others = new();

    private sealed record OtherEndpoint(IReceiveEndpoint Endpoint, string State, long? NotReadySince);

    /// <summary>Whether the endpoint has a consumer on the broker, as MassTransit last reported.</summary>
    public bool EndpointReady
    {
        get { lock (_lock) return _ready; }
    }

    /// <summary>MassTransit's last word on the endpoint (ready, faulted with why, stopped).</summary>
    public string EndpointState
    {
        get { lock (_lock) return _state; }
    }

    /// <summary>The command queue's receive endpoint, once MassTransit has said anything about it: what a restart restarts.</summary>
    public IReceiveEndpoint? Endpoint { get; private set; }

    /// <summary>
    /// Why the channel the consumer last received on is closed, or null while it is open (or not
    /// known yet). MassTransit reports the endpoint ready until its checks in flight have finished,
    /// which on a dead connection can take until they are cancelled: the channel says it at once.
    /// </summary>
    public string? ClosedChannel => _consumerChannel is { IsOpen: false } channel ? channel.CloseReason?.ReplyText ?? "closed" : null;

    /// <summary>Deliveries of the command queue being handled now.</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>Time since a delivery of the command queue last arrived (or since the monitor began).</summary>
    public TimeSpan SinceLastDelivery => clock.GetElapsedTime(Interlocked.Read(ref _lastDelivery));

    /// <summary>
    /// Checks that are done but whose events and acknowledgement have not gone out, and the longest
    /// any of them has waited. That takes milliseconds; seconds mean the bus connection is gone and
    /// MassTransit has not noticed (publishes on a dead connection wait for confirms that never come).
    /// </summary>
    public (int Count, TimeSpan Longest) Finishing
    {
        get
        {
            var now = clock.GetTimestamp();
            var finished = _inFlight.Values.Where(at => at != Running).ToList();
            return (finished.Count, finished.Count == 0 ? TimeSpan.Zero : clock.GetElapsedTime(finished.Min(), now));
        }
    }

    /// <summary>The other receive endpoints that are not ready (faulted, stopped), with MassTransit's word and since when.</summary>
    public IReadOnlyList<EndpointNotReady> OthersNotReady =>
        _others.Where(other => other.Value.NotReadySince is not null)
            .Select(other => new EndpointNotReady(other.Key, other.Value.State, clock.GetElapsedTime(other.Value.NotReadySince!.Value)))
            .ToList();

    /// <summary>Another receive endpoint by its input address while it is still not ready: what a restart of it restarts.</summary>
    public IReceiveEndpoint? OtherEndpointAt(Uri address) =>
        _others.TryGetValue(address, out var other) && other.NotReadySince is not null ? other.Endpoint : null;

    private static bool IsCommandQueue(Uri? address) => address?.AbsolutePath.EndsWith("/" + CommandQueue.Name, StringComparison.Ordinal) == true;

    private Task SetState(ReceiveEndpointEvent endpointEvent, bool ready, string state)
    {
        if (!IsCommandQueue(endpointEvent.InputAddress))
        {
            // Not ready since the first word that said so; a restart's own stop and start do not reset it.
            _others.AddOrUpdate(endpointEvent.InputAddress,
                _ => new OtherEndpoint(endpointEvent.ReceiveEndpoint, state, ready ? null : clock.GetTimestamp()),
                (_, other) => new OtherEndpoint(endpointEvent.ReceiveEndpoint, state, ready ? null : other.NotReadySince ?? clock.GetTimestamp()));
            return Task.CompletedTask;
        }

        lock (_lock)
        {
            Endpoint = endpointEvent.ReceiveEndpoint;
            _ready = ready;
            _state = state;
        }

        // A new consumer: deliveries of the old one cannot be acknowledged any more, and the broker has handed them out again.
        if (ready)
        {
            _inFlight.Clear();
            _consumerChannel = null;
        }

        return Task.CompletedTask;
    }

    public Task Ready(ReceiveEndpointReady ready) => SetState(ready, true, "ready");

    public Task Stopping(ReceiveEndpointStopping stopping) => SetState(stopping, false, "stopping");

    public Task Completed(ReceiveEndpointCompleted completed) => SetState(completed, false, "stopped");

    public Task Faulted(ReceiveEndpointFaulted faulted) => SetState(faulted, false, $"faulted: {faulted.Exception?.Message}");

    public Task PreReceive(ReceiveContext context)
    {
        if (!IsCommandQueue(context.InputAddress)) return Task.CompletedTask;
        Interlocked.Exchange(ref _lastDelivery, clock.GetTimestamp());
        _inFlight[context] = Running;
        if (context.TryGetPayload<ChannelContext>(out var channel)) _consumerChannel = channel.Channel;
        return Task.CompletedTask;
    }

    public Task PostReceive(ReceiveContext context) => Done(context);

    public Task ReceiveFault(ReceiveContext context, Exception exception) => Done(context);

    // Called when the consumer returns, before the in-memory outbox sends what it published.
    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType) where T : class
    {
        if (_inFlight.ContainsKey(context.ReceiveContext)) _inFlight[context.ReceiveContext] = clock.GetTimestamp();
        return Task.CompletedTask;
    }

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception) where T : class => Task.CompletedTask;

    private Task Done(ReceiveContext context)
    {
        _inFlight.TryRemove(context, out _);
        return Task.CompletedTask;
    }
}
