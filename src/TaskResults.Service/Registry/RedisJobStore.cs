using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace TaskResults.Service.Registry;

/// <summary>
/// The registry in Redis, shared by every instance. A job is one hash, <c>{prefix}:job:{taskType}:{jobId}</c>,
/// holding the record as JSON (<c>r</c>) and a version (<c>v</c>); it expires with the record. A write
/// is one small script that applies only if the version is still the one read, so two instances
/// racing on a job decide one after the other.
/// </summary>
public sealed class RedisJobStore : IJobStore, IAsyncDisposable
{
    private const string CompareAndSet = """
        local current = redis.call('HGET', KEYS[1], 'v')
        if (current or '') ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], 'v', ARGV[2], 'r', ARGV[3])
        redis.call('PEXPIREAT', KEYS[1], ARGV[4])
        return 1
        """;

    private static readonly RedisValue[] Fields = ["v", "r"];
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ConfigurationOptions _configuration;
    private readonly object _connectLock = new();
    private Task<ConnectionMultiplexer>? _connection;
    private readonly string _prefix;

    public RedisJobStore(IOptions<RegistryOptions> options)
    {
        _prefix = options.Value.KeyPrefix;
        var configuration = ConfigurationOptions.Parse(options.Value.Redis!);
        // Start even while Redis is away and reconnect by itself; a call fails fast instead of holding a check.
        configuration.AbortOnConnectFail = false;
        if (!options.Value.Redis!.Contains("connectTimeout", StringComparison.OrdinalIgnoreCase)) configuration.ConnectTimeout = 2000;
        if (!options.Value.Redis.Contains("asyncTimeout", StringComparison.OrdinalIgnoreCase)) configuration.AsyncTimeout = 2000;
        configuration.ClientName = ClientName();
        _configuration = configuration;
    }

    public async Task<T> UpdateAsync<T>(JobKey job, Func<JobRecord?, Decision<T>> decide, CancellationToken cancellationToken)
    {
        var key = Key(job);
        var database = await DatabaseAsync();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (version, record) = await ReadAsync(database, key);
            var decision = decide(record);
            if (decision.Write is not { } write) return decision.Result;

            var next = (version.Length == 0 ? 1 : long.Parse(version, CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture);
            var written = await Call(() => database.ScriptEvaluateAsync(CompareAndSet, [key],
                [version, next, JsonSerializer.Serialize(write, Json), write.ExpiresAt.ToUnixTimeMilliseconds()]));
            if ((int)written == 1) return decision.Result;
            // Another instance wrote in between: decide again on what it wrote.
        }
    }

    public async Task<JobRecord?> GetAsync(JobKey job, CancellationToken cancellationToken) =>
        (await ReadAsync(await DatabaseAsync(), Key(job))).Record;

    public async ValueTask DisposeAsync()
    {
        if (_connection is { IsCompletedSuccessfully: true } connected) await connected.Result.DisposeAsync();
    }

    private RedisKey Key(JobKey job) => $"{_prefix}:job:{job.TaskType}:{job.JobId}";

    private async Task<(string Version, JobRecord? Record)> ReadAsync(IDatabase database, RedisKey key)
    {
        var values = await Call(() => database.HashGetAsync(key, Fields));
        if (values[0].IsNull || values[1].IsNull) return ("", null);
        return (values[0].ToString(), JsonSerializer.Deserialize<JobRecord>(values[1].ToString(), Json));
    }

    private async Task<IDatabase> DatabaseAsync()
    {
        try
        {
            return (await Connection()).GetDatabase();
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            throw new RegistryUnavailableException($"Redis cannot be reached: {exception.Message}", exception);
        }
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

    // What Redis throws when it cannot be reached (or answer in time), as the registry's one exception.
    private static async Task<TResult> Call<TResult>(Func<Task<TResult>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception exception) when (exception is RedisConnectionException or RedisTimeoutException or TimeoutException)
        {
            throw new RegistryUnavailableException($"Redis cannot be reached: {exception.Message}", exception);
        }
    }

    private static string ClientName() => $"taskresults {Environment.MachineName} {Environment.ProcessId}";
}
