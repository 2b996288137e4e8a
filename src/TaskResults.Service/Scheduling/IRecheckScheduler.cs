using MassTransit;
using TaskResults.Contracts;

namespace TaskResults.Service.Scheduling;

/// <summary>
/// Puts a command back on the check queue after a wait, with its progress in its headers. The one
/// seam between the consumer and the way a bus delays messages.
/// </summary>
public interface IRecheckScheduler
{
    /// <summary>
    /// Brings the command back at <paramref name="dueAt"/>: <paramref name="delay"/> (one of the
    /// schedule's delays) after the API answered.
    /// </summary>
    Task ScheduleRecheck(ConsumeContext<CheckTaskResult> context, CheckProgress progress, TimeSpan delay, DateTimeOffset dueAt);
}
