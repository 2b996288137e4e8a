using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TaskResults.Service.Registry;
using TaskResults.Service.Scheduling;

namespace TaskResults.Tests.Registry;

/// <summary>The registry's chains over each store: in memory, and a real redis-server (its own key prefix per spec).</summary>
public sealed class RegistryStores(RedisServer? redis = null)
{
    public static TheoryData<RegistryStore> Both => [RegistryStore.InMemory, RegistryStore.Redis];

    // From the real now: Redis expires records by its own clock.
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public RedisServer Redis => redis ?? throw new InvalidOperationException("No redis-server for these specs.");

    public JobChains Chains(RegistryStore store, Action<RegistryOptions>? configure = null, ILogger<JobChains>? logger = null) =>
        Chains(store, out _, configure, logger);

    /// <summary>Chains over the store, and the Redis connection they use (null in memory), whose calls can be counted.</summary>
    public JobChains Chains(RegistryStore store, out RedisConnection? connection, Action<RegistryOptions>? configure = null, ILogger<JobChains>? logger = null)
    {
        var options = new RegistryOptions
        {
            Store = store,
            Redis = redis?.ConnectionString,
            KeyPrefix = "spec-" + Guid.NewGuid().ToString("N"),
        };
        configure?.Invoke(options);
        var wrapped = Options.Create(options);
        connection = store == RegistryStore.Redis ? new RedisConnection(wrapped) : null;
        IJobStore? jobs = store switch
        {
            RegistryStore.InMemory => new InMemoryJobStore(Clock),
            RegistryStore.Redis => new RedisJobStore(connection!, wrapped, Options.Create(new Service.Options.PollingOptions())),
            _ => null,
        };
        return new JobChains(wrapped, Clock, logger ?? NullLogger<JobChains>.Instance, jobs);
    }

    /// <summary>A delivery's progress: a sender's command (no link) or a rescheduled one.</summary>
    public CheckProgress Delivery(ChainLink? link = null, int attempt = 1) =>
        new(attempt, Clock.GetUtcNow(), Clock.GetUtcNow() + TimeSpan.FromMinutes(30), 0) { Chain = link };

    /// <summary>A sender's command as the broker hands it out the first time: a MessageId of its own.</summary>
    public static SenderCommand NewSender() => new(Guid.NewGuid().ToString("N"), Redelivered: false);

    public PendingCheck Pending(int attempts = 1) =>
        new(attempts, "QUEUING", Clock.GetUtcNow() + TimeSpan.FromSeconds(5), Clock.GetUtcNow() + TimeSpan.FromMinutes(30), Clock.GetUtcNow());
}
