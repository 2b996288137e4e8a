using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TaskResults.Service.Options;
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
/// Sets do not expire with their jobs: a set is trimmed of the jobs that must be gone as jobs are written to it
/// (past the retention for a finished state), and a listing drops the members whose job is gone or has moved on.
/// </summary>
public sealed class RedisJobStore : IJobStore
{
    // KEYS: the job. ARGV: the version decided on ("" for none), the new version, the record, when it expires (ms),
    // then for the listings: the state, the score (last activity, ms), the sets' prefix, the task type, the member,
    // and the score before which every job of the state is gone (ms). Returns {1} when written, or {0, version, record} as they are.
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
        redis.call('ZREMRANGEBYSCORE', state, '-inf', '(' .. ARGV[10])
        redis.call('ZREMRANGEBYSCORE', typed, '-inf', '(' .. ARGV[10])
        return {1}
        """;

    // KEYS: the set listed. ARGV: the jobs' key prefix, the state, the limit, the sets' prefix, and the cursor: the
    // last listed job's score and member ('' for none). Walks the set newest first from the cursor's score: the jobs
    // of that same score come first, up to and including the cursor's (shown already; if the cursor's job has moved,
    // they are shown again rather than skipped). A member whose job is gone or in another state leaves both of its
    // sets. Returns {next score, next member ('' '': no more), member, record, member, record...}.
    private const string List = """
        local limit = tonumber(ARGV[3])
        local cursor, after = tonumber(ARGV[5]), ARGV[6]
        local top = ARGV[5] == '' and '+inf' or ARGV[5]
        local out, stale, ties = {'', ''}, {}, {}
        local found, examined, offset, more = 0, 0, 0, false
        local seeking = cursor ~= nil
        local last_member, last_score, seen_member, seen_score
        local function show(member, score)
          if more then return end
          local job = redis.call('HMGET', ARGV[1] .. member, 'r', 's')
          if not (job[1] and job[2] == ARGV[2]) then stale[#stale + 1] = member return end
          if found == limit then more = true return end
          out[#out + 1] = member
          out[#out + 1] = job[1]
          found, last_member, last_score = found + 1, member, score
        end
        local function show_ties()
          seeking = false
          for _, tie in ipairs(ties) do show(tie[1], tie[2]) end
        end
        while not more do
          if examined >= 1000 + limit * 10 then
            -- Mostly stale members: stop here; a short page goes on from the last member looked at.
            if found < limit then last_member, last_score = seen_member, seen_score end
            more = true
            break
          end
          local batch = redis.call('ZRANGE', KEYS[1], top, '-inf', 'BYSCORE', 'REV', 'LIMIT', offset, limit + 1, 'WITHSCORES')
          if #batch == 0 then break end
          for i = 1, #batch, 2 do
            local member, score = batch[i], batch[i + 1]
            offset, examined, seen_member, seen_score = offset + 1, examined + 1, member, score
            if seeking and tonumber(score) == cursor then
              if member == after then seeking, ties = false, {} else ties[#ties + 1] = {member, score} end
            else
              if seeking then show_ties() end
              show(member, score)
            end
            if more then break end
          end
        end
        if seeking then show_ties() end
        if more and last_member then out[1], out[2] = last_score, last_member end
        for _, member in ipairs(stale) do
          redis.call('ZREM', ARGV[4] .. ARGV[2], member)
          redis.call('ZREM', ARGV[4] .. ARGV[2] .. ':' .. string.match(member, '^[^:]*'), member)
        end
        return out
        """;

    private static readonly RedisValue[] Fields = ["v", "r"];
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly RedisConnection _redis;
    private readonly string _prefix;
    private readonly string _sets;
    private readonly TimeSpan _retention;
    private readonly TimeSpan _longestPending;

    public RedisJobStore(RedisConnection redis, IOptions<RegistryOptions> options, IOptions<PollingOptions> polling)
    {
        (_redis, _prefix, _retention) = (redis, options.Value.KeyPrefix, options.Value.Retention);
        _sets = _prefix + ":jobs:";
        // A pending job's record lives until its deadline (at most MaxDeadline after its first check) and the retention.
        _longestPending = polling.Value.MaxDeadline + _retention;
    }

    // How long after its last activity a job of this state may still have a record: a finished job's is kept for the
    // retention; a pending one's, and a cancelled one's (kept at least as long as it would have been pending), longer.
    private TimeSpan Kept(JobState state) => state is JobState.Succeeded or JobState.Failed ? _retention : _longestPending;

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
                (write.UpdatedAt - Kept(write.State)).ToUnixTimeMilliseconds(),
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
        [
            $"{_prefix}:job:", state, query.Limit, _sets,
            query.After?.UpdatedAt.ToString(CultureInfo.InvariantCulture) ?? "", query.After is { } after ? Member(after.Job) : "",
        ])))!;
        var jobs = new List<ListedJob>(answer.Length / 2);
        for (var i = 2; i + 1 < answer.Length; i += 2)
            jobs.Add(new ListedJob(FromMember(answer[i].ToString()), JsonSerializer.Deserialize<JobRecord>(answer[i + 1].ToString(), Json)!));
        var next = answer[1].ToString() is { Length: > 0 } member
            ? new JobCursor(long.Parse(answer[0].ToString(), NumberStyles.Float, CultureInfo.InvariantCulture), FromMember(member))
            : null;
        return new JobPage(jobs, next);
    }

    private RedisKey Key(JobKey job) => $"{_prefix}:job:{job.TaskType}:{job.JobId}";

    // A task type holds no colon (TaskTypes.All): the member splits back at the first one.
    private static string Member(JobKey job) => $"{job.TaskType}:{job.JobId}";

    private static JobKey FromMember(string member)
    {
        var colon = member.IndexOf(':');
        return new JobKey(member[..colon], member[(colon + 1)..]);
    }

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
