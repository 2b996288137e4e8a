using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace TaskResults.Service.Registry;

/// <summary>
/// The registry in Redis, shared by every instance. A job is one hash, <c>{prefix}:job:{taskType}:{jobId}</c>,
/// holding the record as JSON (<c>r</c>) and a version (<c>v</c>, random, so a record forgotten and
/// written anew never takes an old version); it expires with the record. A write is one small
/// script that applies only if the version is still the one decided on, and otherwise answers with
/// the record as it is, so two instances racing on a job decide one after the other.
///
/// A step costs one round trip: a decision on the caller's guess (no record for a sender's command,
/// the record its start saw for a check's answer) is written without a read, and counts only if the
/// write lands; a miss brings the record back with it for the next decision.
/// </summary>
public sealed class RedisJobStore : IJobStore
{
    // KEYS: the job. ARGV: the version decided on ("" for none), the new version, the record, when it expires.
    // Returns {1} when written, or {0, version, record} as they are.
    private const string CompareAndSet = """
        local current = redis.call('HMGET', KEYS[1], 'v', 'r')
        local version = current[1] or ''
        if version ~= ARGV[1] then return {0, version, current[2] or ''} end
        redis.call('HSET', KEYS[1], 'v', ARGV[2], 'r', ARGV[3])
        redis.call('PEXPIREAT', KEYS[1], ARGV[4])
        return {1}
        """;

    private static readonly RedisValue[] Fields = ["v", "r"];
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly RedisConnection _redis;
    private readonly string _prefix;

    public RedisJobStore(RedisConnection redis, IOptions<RegistryOptions> options) => (_redis, _prefix) = (redis, options.Value.KeyPrefix);

    public async Task<(T Result, StoredRecord Stored)> UpdateAsync<T>(JobKey job, Func<JobRecord?, Decision<T>> decide, StoredRecord? seen,
        CancellationToken cancellationToken)
    {
        var key = Key(job);
        var guess = seen is not null;
        var stored = seen;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            stored ??= await ReadAsync(key);
            var decision = decide(stored.Record);
            if (decision.Write is not { } write)
            {
                if (!guess) return (decision.Result, stored);
                // Nothing to write on a guess: only the record itself can say whether that holds.
                (stored, guess) = (null, false);
                continue;
            }

            var version = ChainLink.NewToken()[..16];
            var answer = (RedisResult[])(await _redis.CallAsync(database => database.ScriptEvaluateAsync(CompareAndSet, [key],
                [stored.Version, version, JsonSerializer.Serialize(write, Json), write.ExpiresAt.ToUnixTimeMilliseconds()])))!;
            if ((int)answer[0] == 1) return (decision.Result, new StoredRecord(version, write));
            // Another step wrote in between, or the guess was wrong: decide again on the record as it is.
            (stored, guess) = (Stored(answer[1].ToString(), answer[2].ToString()), false);
        }
    }

    public async Task<JobRecord?> GetAsync(JobKey job, CancellationToken cancellationToken) => (await ReadAsync(Key(job))).Record;

    private RedisKey Key(JobKey job) => $"{_prefix}:job:{job.TaskType}:{job.JobId}";

    private async Task<StoredRecord> ReadAsync(RedisKey key)
    {
        var values = await _redis.CallAsync(database => database.HashGetAsync(key, Fields));
        return Stored(values[0].ToString(), values[1].ToString());
    }

    // A version without a record (never written so) counts as no record, at that version.
    private static StoredRecord Stored(string? version, string? record) =>
        string.IsNullOrEmpty(version) ? StoredRecord.Absent
        : new StoredRecord(version, string.IsNullOrEmpty(record) ? null : JsonSerializer.Deserialize<JobRecord>(record, Json));
}
