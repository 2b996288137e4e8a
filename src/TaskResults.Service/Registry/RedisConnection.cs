using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace TaskResults.Service.Registry;

/// <summary>
/// The one Redis connection of the process (the job store and the shared API budget), and what a
/// call does when Redis is away. StackExchange.Redis reconnects by itself; a call that cannot be
/// answered throws <see cref="RegistryUnavailableException"/>. After a failure, calls fail at once
/// for a moment while one call at a time tries Redis again, so an unreachable Redis costs each check
/// nothing instead of a timeout.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable
{
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);

    private readonly ConfigurationOptions _configuration;
    private readonly object _connectLock = new();
    private Task<ConnectionMultiplexer>? _connection;
    // Environment.TickCount64 until which calls fail at once (0: Redis answered last time), and whether a try is under way.
    private long _awayUntil;
    private int _trying;
    private long _calls;

    public RedisConnection(IOptions<RegistryOptions> options)
    {
        var configuration = ConfigurationOptions.Parse(options.Value.Redis!);
        // Start even while Redis is away and reconnect by itself; a call fails fast instead of holding a check.
        configuration.AbortOnConnectFail = false;
        if (!options.Value.Redis!.Contains("connectTimeout", StringComparison.OrdinalIgnoreCase)) configuration.ConnectTimeout = 2000;
        if (!options.Value.Redis.Contains("asyncTimeout", StringComparison.OrdinalIgnoreCase)) configuration.AsyncTimeout = 2000;
        configuration.ClientName = $"taskresults {Environment.MachineName} {Environment.ProcessId}";
        _configuration = configuration;
    }

    /// <summary>The calls made to Redis so far (each one round trip): what the registry costs, counted.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Runs <paramref name="call"/> on the database; throws <see cref="RegistryUnavailableException"/> when Redis cannot answer it.</summary>
    public async Task<T> CallAsync<T>(Func<IDatabase, Task<T>> call)
    {
        var away = Volatile.Read(ref _awayUntil) != 0;
        if (away && (Environment.TickCount64 < Volatile.Read(ref _awayUntil) || Interlocked.CompareExchange(ref _trying, 1, 0) != 0))
            throw new RegistryUnavailableException("Redis did not answer a moment ago.");

        try
        {
            Interlocked.Increment(ref _calls);
            var result = await call((await Connection()).GetDatabase());
            Volatile.Write(ref _awayUntil, 0);
            return result;
        }
        catch (Exception exception) when (IsUnreachable(exception))
        {
            Volatile.Write(ref _awayUntil, Environment.TickCount64 + (long)RetryAfterFailure.TotalMilliseconds);
            throw new RegistryUnavailableException($"Redis cannot be reached: {exception.Message}", exception);
        }
        finally
        {
            if (away) Volatile.Write(ref _trying, 0);
        }
    }

    // Redis cannot answer now (down, too slow, loading, a replica after a failover); any other error is a fault of ours and stays one.
    private static bool IsUnreachable(Exception exception) => exception switch
    {
        RedisConnectionException or RedisTimeoutException or TimeoutException => true,
        RedisServerException server => server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("READONLY", StringComparison.Ordinal)
            || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("BUSY", StringComparison.Ordinal),
        _ => false,
    };

    public async ValueTask DisposeAsync()
    {
        if (_connection is { IsCompletedSuccessfully: true } connected) await connected.Result.DisposeAsync();
    }

    // One multiplexer for the process (it reconnects by itself); a connect that threw is tried again on the next call.
    private Task<ConnectionMultiplexer> Connection()
    {
        lock (_connectLock)
        {
            if (_connection is null || _connection.IsFaulted || _connection.IsCanceled) _connection = ConnectionMultiplexer.ConnectAsync(_configuration);
            return _connection;
        }
    }
}
