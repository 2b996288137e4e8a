using TaskResults.Contracts;

namespace TaskResults.Service.Registry;

/// <summary>What a store writes for a decision: the result, and the record to write (null: nothing).</summary>
public readonly record struct Decision<T>(T Result, JobRecord? Write);

/// <summary>
/// The rules of one chain per job, in one place for every store: each is a pure decision on the
/// record as read, which the store applies only if nobody wrote the record in between.
///
/// A chain is a sequence of steps, each a delivery carrying the token the registry holds as the
/// job's current one. A step that reschedules first moves the registry to a new token (keeping its
/// own as the previous one), then sends the command with the new token, then is acknowledged. A
/// crash anywhere in between leaves one chain: the old delivery comes again and, holding the
/// previous token, takes over; whatever the crashed step had sent holds a token that is then
/// neither current nor previous, and is dropped when it arrives.
///
/// A token the registry holds is the authority, however the delivery came by it: a write the
/// service took for failed (a timeout) may have landed. Steps taken while the registry could not
/// be reached carry the last token it knew (<see cref="ChainLink.Since"/>); the chain goes on under
/// theirs when it answers again. Nothing here can drop the only delivery of a job: a delivery is
/// dropped only when the registry names another step as current.
/// </summary>
public static class ChainRules
{
    /// <summary>
    /// A delivery arrives: check, or not. <paramref name="command"/> says which sender's command it is
    /// (its MessageId, and whether the broker delivers it again), for deliveries without a link;
    /// <paramref name="newToken"/> is the token a new chain gets (chosen by the caller, so that a
    /// caller that takes the write for failed carries on with the token written).
    /// </summary>
    public static Decision<ChainStep> Begin(JobRecord? record, ChainLink? link, SenderCommand command, string newToken, Scheduling.CheckProgress progress,
        DateTimeOffset now, RegistryOptions options, string? traceId = null)
    {
        if (record is null) return Start(link?.Token ?? newToken, command, progress, now, options, traceId);

        // The command that started the chain, delivered again (its instance died before the ack): it is the chain's first step.
        if (link is null && record.State == JobState.Pending && record.FirstChain is { } first && command.IsSameAs(record.StartedBy)) link = new ChainLink(first);
        var token = link?.Token;
        var known = token is not null && (token == record.Chain || token == record.PreviousChain);

        if (record.State != JobState.Pending)
        {
            // The chain of a cancelled job ends at its next step, which sends the cancel's event again (in case its publish was lost).
            if (record.State == JobState.Cancelled && known) return new(new ChainStep.Cancelled(record.End!), null);
            // A late sender, or the finishing step delivered again: the same event again. A fork: nothing.
            return new(token is null || known ? new ChainStep.Finished(record.End!) : new ChainStep.Stale(record.Chain), null);
        }

        // The chain's step (or the one before, delivered again): check. The record is written only when
        // the check runs so late after its due time that the chain would soon look dead (a long backlog).
        if (known)
        {
            var stillLive = record.LiveUntil - now >= options.ChainTimeout / 2;
            return new(new ChainStep.Check(new ChainLink(token!)), stillLive ? null : record with { LiveUntil = now + options.ChainTimeout, UpdatedAt = now });
        }

        // Steps taken while the registry was away descend from a token it knows: the chain goes on under theirs.
        if (DescendsFrom(record, link))
        {
            return new(new ChainStep.Check(new ChainLink(token!)),
                record with { Chain = token!, PreviousChain = record.Chain, LiveUntil = now + options.ChainTimeout, UpdatedAt = now });
        }

        // A new chain (a sender's command, or one started while the registry was away): only if the job's has died.
        if (token is null || link is { Recorded: false, Since: "" })
            return now < record.LiveUntil ? new(new ChainStep.Duplicate(), null) : Start(token ?? newToken, command, progress, now, options, traceId);

        // A step taken while the registry was away, of a chain it never knew: a fork while the job's chain lives, its only chain once that died.
        if (link is { Recorded: false } && now >= record.LiveUntil) return Start(token!, command, progress, now, options, traceId);

        return new(new ChainStep.Stale(record.Chain), null);
    }

    /// <summary>The check was answered and the job goes on: hand the chain to <paramref name="next"/>, or false when another delivery holds it.</summary>
    public static Decision<bool> Advance(JobRecord? record, ChainLink link, string next, PendingCheck check, DateTimeOffset now, RegistryOptions options)
    {
        if (record is not null && (record.State != JobState.Pending || !Holds(record, link))) return new(false, null);

        var advanced = (record ?? NewRecord(link.Token, check.FirstCheckAt, check.Deadline, now, options)) with
        {
            Chain = next,
            PreviousChain = link.Token,
            LiveUntil = check.NextCheckAt + options.ChainTimeout,
            Attempts = check.Attempts,
            LastStatus = check.Status ?? record?.LastStatus,
            NextCheckAt = check.NextCheckAt,
            Deadline = check.Deadline,
            UpdatedAt = now,
            Checks = JobRecordChecks.With(record?.Checks, new TaskCheck { At = now, Attempt = check.Attempts, Status = check.Status, State = TaskStates.Pending }),
        };
        return new(true, advanced);
    }

    /// <summary>The job ended: keep its event for the retention, or false when another delivery holds the chain (it publishes, not this one).</summary>
    public static Decision<bool> Finish(JobRecord? record, ChainLink link, JobEnd end, int attempts, DateTimeOffset now, RegistryOptions options)
    {
        // Cancelled while this check ran: its answer comes too late, the job's event is the cancel's.
        if (record is { State: JobState.Cancelled }) return new(false, null);
        if (record is { State: not JobState.Pending }) return new(link.Token == record.Chain, null);
        // A chain started while the registry was away ("") ends its job too: its answer is as good as any; so does any
        // step taken without the registry once the chain the registry knows has died.
        if (record is not null && !Holds(record, link) && link is not { Recorded: false, Since: "" } && !(link is { Recorded: false } && now >= record.LiveUntil))
            return new(false, null);

        var finished = (record ?? NewRecord(link.Token, now, now, now, options)) with
        {
            State = end.State,
            Chain = link.Token,
            PreviousChain = null,
            Attempts = attempts,
            NextCheckAt = null,
            End = end,
            UpdatedAt = now,
            ExpiresAt = now + options.Retention,
            Checks = JobRecordChecks.With(record?.Checks, new TaskCheck
            {
                At = now,
                Attempt = attempts,
                Status = end.Succeeded is null ? end.Failed!.Reason : "SUCCESS",
                State = JobRecordChecks.WireValue(end.State),
            }),
        };
        return new(true, finished);
    }

    /// <summary>
    /// Stop a pending job: it keeps <paramref name="cancelled"/> as its terminal event for the retention, and its chain
    /// ends at its next delivery. A finished job, or one the registry does not know, changes nothing; a job cancelled
    /// before is cancelled still (its event is sent again: events are at least once).
    /// </summary>
    public static Decision<CancelOutcome> Cancel(JobRecord? record, TaskFailed cancelled, DateTimeOffset now, RegistryOptions options) => record switch
    {
        null => new(CancelOutcome.Unknown, null),
        { State: JobState.Cancelled } => new(CancelOutcome.AlreadyCancelled, null),
        { State: not JobState.Pending } => new(CancelOutcome.AlreadyFinished, null),
        _ => new(CancelOutcome.Cancelled, record with
        {
            State = JobState.Cancelled,
            NextCheckAt = null,
            End = new JobEnd(null, cancelled with { Attempts = record.Attempts }),
            UpdatedAt = now,
            Checks = JobRecordChecks.With(record.Checks,
                new TaskCheck { At = now, Attempt = record.Attempts, Status = FailureReasons.Cancelled, State = TaskStates.Cancelled }),
            // Never sooner than the pending record would have gone: a step still waiting must find it, not start the job again.
            ExpiresAt = record.ExpiresAt > now + options.Retention ? record.ExpiresAt : now + options.Retention,
        }),
    };

    // Whether the delivery holding link is the chain's current or previous step, or descends from one of them.
    private static bool Holds(JobRecord record, ChainLink link) =>
        link.Token == record.Chain || link.Token == record.PreviousChain || DescendsFrom(record, link);

    // A step taken while the registry was away, after the step the registry holds as current or previous.
    private static bool DescendsFrom(JobRecord record, ChainLink? link) =>
        link is { Recorded: false, Since.Length: > 0 } && (link.Since == record.Chain || link.Since == record.PreviousChain);

    private static Decision<ChainStep> Start(string token, SenderCommand command, Scheduling.CheckProgress progress, DateTimeOffset now, RegistryOptions options,
        string? traceId) =>
        new(new ChainStep.Check(new ChainLink(token)), NewRecord(token, progress.FirstCheckAt, progress.Deadline, now, options) with
        {
            Attempts = progress.Attempt - 1,
            FirstChain = token,
            StartedBy = command.MessageId,
            TraceId = traceId,
        });

    private static JobRecord NewRecord(string token, DateTimeOffset firstCheckAt, DateTimeOffset deadline, DateTimeOffset now, RegistryOptions options) => new()
    {
        State = JobState.Pending,
        Chain = token,
        LiveUntil = now + options.ChainTimeout,
        FirstCheckAt = firstCheckAt,
        Deadline = deadline,
        UpdatedAt = now,
        ExpiresAt = (deadline > now ? deadline : now) + options.Retention,
    };
}

/// <summary>What a cancel did: <see cref="Cancelled"/> and <see cref="AlreadyCancelled"/> publish the job's <c>TaskFailed</c> (<c>CANCELLED</c>).</summary>
public enum CancelOutcome
{
    Cancelled,
    AlreadyCancelled,
    AlreadyFinished,
    Unknown,
}

/// <summary>What a pending (or transiently failed) check leaves in the registry.</summary>
public sealed record PendingCheck(int Attempts, string? Status, DateTimeOffset NextCheckAt, DateTimeOffset Deadline, DateTimeOffset FirstCheckAt);

/// <summary>Which sender's command a delivery is: its MessageId (null when the sender gave none) and the broker's redelivered flag.</summary>
public readonly record struct SenderCommand(string? MessageId, bool Redelivered)
{
    /// <summary>Whether this is the command that started a chain: the same MessageId; without one, a redelivery is taken for it.</summary>
    public bool IsSameAs(string? startedBy) => MessageId is not null ? MessageId == startedBy : Redelivered && startedBy is null;
}
