using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace TaskResults.Service.Registry;

/// <summary>
/// The registry in Redis, shared by every instance. A job is one hash, <c>{prefix}:job:{taskType}:{jobId}</c>,
/// holding the record as JSON (<c>r</c>), its state (<c>s</c>) and a version (<c>v</c>, random, so a record
/// forgotten and written anew never takes an old version); it expires with the record. A write is one small
/// script that applies only if the version is still the one decided on, and otherwise answers with
/// the record as it is, so two instances racing on a job decide one after the other.
///
/// A step costs one round trip: a decision on the caller's guess (no record for a sender's command,
/// the record its start saw for a check's answer) is written without a read, and counts only if the
/// write lands; a miss brings the record back with it for the next decision.
///
/// For listings, the same write files the job in two sorted sets by its last activity:
/// <c>{prefix}:jobs:{State}</c> and <c>{prefix}:jobs:{State}:{taskType}</c> (members <c>{taskType}:{jobId}</c>).
/// Sets do not expire with their jobs: a finished state's set is trimmed past the retention as jobs are
/// written to it, and a listing drops the members whose job is gone or has moved on.
/// </summary>
public sealed class RedisJobStore : IJobStore
{
    // KEYS: the job. ARGV: the version decided on ("" for none), the new version, the record, when it expires (ms),
    // then for the listings: the state, the score (last activity, ms), the sets' prefix, the task type, the member,
    // and before when a finished job is gone (ms). Returns {1} when written, or {0, version, record} as they are.
    private const string CompareAndSet = """
        local current = redis.call('HMGET', KEYS[1], 'v', 'r', 's')
        local version = current[1] or ''
        if version ~= ARGV[1] then return {0, version, current[2] or ''} end
        redis.call('HSET', KEYS[1], 'v', ARGV[2], 'r', ARGV[3], 's', ARGV[5])
        redis.call('PEXPIREAT', KEYS[1], ARGV[4])
        local state, typed = ARGV[7] .. ARGV[5], ARGV[7] .. ARGV[5] .. ':' .. ARGV[8]
        local was = current[3]
        if was and was ~= ARGV[5] then
          redis.call('ZREM', ARGV[7] .. was, ARGV[9])
          redis.call('ZREM', ARGV[7] .. was .. ':' .. ARGV[8], ARGV[9])
        end
        redis.call('ZADD', state, ARGV[6], ARGV[9])
        redis.call('ZADD', typed, ARGV[6], ARGV[9])
        if ARGV[5] ~= 'Pending' then
          redis.call('ZREMRANGEBYSCORE', state, '-inf', '(' .. ARGV[10])
          redis.call('ZREMRANGEBYSCORE', typed, '-inf', '(' .. ARGV[10])
        end
        return {1}
        """;

    // KEYS: the set listed. ARGV: the jobs' key prefix, the state, the offset, the limit, the sets' prefix.
    // Walks the set newest first; a member whose job is gone or in another state leaves both of its sets.
    // Returns {next offset (-1: no more), member, record, member, record...}.
    private const string List = """
        local offset, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
        local out = {0}
        local found, dropped = 0, 0
        while found < limit and dropped < 1000 + limit * 10 do
          local members = redis.call('ZREVRANGE', KEYS[1], offset, offset + limit - found - 1)
          if #members == 0 then break end
          for _, member in ipairs(members) do
            local job = redis.call('HMGET', ARGV[1] .. member, 'r', 's')
            if job[1] and job[2] == ARGV[2] then
              out[#out + 1] = member
              out[#out + 1] = job[1]
              offset, found = offset + 1, found + 1
            else
              local taskType = string.match(member, '^([^:]*):')
              redis.call('ZREM', ARGV[5] .. ARGV[2], member)
              redis.call('ZREM', ARGV[5] .. ARGV[2] .. ':' .. (taskType or ''), member)
              dropped = dropped + 1
            end
          end
        end
        out[1] = offset < redis.call('ZCARD', KEYS[1]) and offset or -1
        return out
        """;

    private static readonly RedisValue[] Fields = ["v", "r"];
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly RedisConnection _redis;
    private readonly string _prefix;
    private readonly string _sets;
    private readonly TimeSpan _retention;

    public RedisJobStore(RedisConnection redis, IOptions<RegistryOptions> options)
    {
        (_redis, _prefix, _retention) = (redis, options.Value.KeyPrefix, options.Value.Retention);
        _sets = _prefix + ":jobs:";
    }

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
            [
                stored.Version, version, JsonSerializer.Serialize(write, Json), write.ExpiresAt.ToUnixTimeMilliseconds(),
                JobRecordChecks.WireValue(write.State), write.UpdatedAt.ToUnixTimeMilliseconds(), _sets, job.TaskType, Member(job),
                (write.UpdatedAt - _retention).ToUnixTimeMilliseconds(),
            ])))!;
            if ((int)answer[0] == 1) return (decision.Result, new StoredRecord(version, write));
            // Another step wrote in between, or the guess was wrong: decide again on the record as it is.
            (stored, guess) = (Stored(answer[1].ToString(), answer[2].ToString()), false);
        }
    }

    public async Task<JobRecord?> GetAsync(JobKey job, CancellationToken cancellationToken) => (await ReadAsync(Key(job))).Record;

    public async Task<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken)
    {
        var state = JobRecordChecks.WireValue(query.State);
        RedisKey set = query.TaskType is null ? _sets + state : $"{_sets}{state}:{query.TaskType}";
        var answer = (RedisResult[])(await _redis.CallAsync(database => database.ScriptEvaluateAsync(List, [set],
            [$"{_prefix}:job:", state, query.Offset, query.Limit, _sets])))!;
        var jobs = new List<ListedJob>(answer.Length / 2);
        for (var i = 1; i + 1 < answer.Length; i += 2)
        {
            var member = answer[i].ToString();
            var colon = member.IndexOf(':');
            jobs.Add(new ListedJob(new JobKey(member[..colon], member[(colon + 1)..]), JsonSerializer.Deserialize<JobRecord>(answer[i + 1].ToString(), Json)!));
        }

        var next = (long)answer[0];
        return new JobPage(jobs, next < 0 ? null : (int)next);
    }

    private RedisKey Key(JobKey job) => $"{_prefix}:job:{job.TaskType}:{job.JobId}";

    // A task type holds no colon (TaskTypes.All): the member splits back at the first one.
    private static string Member(JobKey job) => $"{job.TaskType}:{job.JobId}";

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
