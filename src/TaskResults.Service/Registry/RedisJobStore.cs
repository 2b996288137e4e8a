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
public sealed class RedisJobStore : IJobStore
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

    private readonly RedisConnection _redis;
    private readonly string _prefix;

    public RedisJobStore(RedisConnection redis, IOptions<RegistryOptions> options) => (_redis, _prefix) = (redis, options.Value.KeyPrefix);

    public async Task<T> UpdateAsync<T>(JobKey job, Func<JobRecord?, Decision<T>> decide, CancellationToken cancellationToken)
    {
        var key = Key(job);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (version, record) = await ReadAsync(key);
            var decision = decide(record);
            if (decision.Write is not { } write) return decision.Result;

            var next = (version.Length == 0 ? 1 : long.Parse(version, CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture);
            var written = await _redis.CallAsync(database => database.ScriptEvaluateAsync(CompareAndSet, [key],
                [version, next, JsonSerializer.Serialize(write, Json), write.ExpiresAt.ToUnixTimeMilliseconds()]));
            if ((int)written == 1) return decision.Result;
            // Another instance wrote in between: decide again on what it wrote.
        }
    }

    public async Task<JobRecord?> GetAsync(JobKey job, CancellationToken cancellationToken) => (await ReadAsync(Key(job))).Record;

    private RedisKey Key(JobKey job) => $"{_prefix}:job:{job.TaskType}:{job.JobId}";

    private async Task<(string Version, JobRecord? Record)> ReadAsync(RedisKey key)
    {
        var values = await _redis.CallAsync(database => database.HashGetAsync(key, Fields));
        if (values[0].IsNull || values[1].IsNull) return ("", null);
        return (values[0].ToString(), JsonSerializer.Deserialize<JobRecord>(values[1].ToString(), Json));
    }
}
