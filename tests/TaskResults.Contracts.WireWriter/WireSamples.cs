using System.Text.Json;

namespace TaskResults.Contracts.WireWriter;

/// <summary>
/// One instance of each message, every optional field set, with fixed values: what the wire spec
/// writes with the net8.0 build and compares with the net10.0 one. (Linked into TaskResults.Tests.)
/// </summary>
public static class WireSamples
{
    private static readonly DateTimeOffset At = new(2026, 11, 24, 18, 0, 0, TimeSpan.Zero);

    // Escaping differs between encoders: non-ASCII, HTML-sensitive characters and quotes show whether both sides use the same one.
    private const string Awkward = "café ✓ <b> & 'single' \"double\" \\ ü";

    public static IReadOnlyList<object> All { get; } =
    [
        new CheckTaskResult
        {
            JobId = "f3a9c0d2e1b84c6a",
            TaskType = TaskTypes.HdColourMigration,
            Deadline = new DateTimeOffset(2026, 11, 24, 20, 30, 0, TimeSpan.FromHours(2)),
        },
        new TaskPending
        {
            JobId = "task-7d41",
            TaskType = TaskTypes.AsyncTask,
            Status = "PROCESSING",
            Attempt = 2,
            NextCheckAt = At.AddSeconds(7.5),
            Deadline = At.AddMinutes(30),
            RequestId = "req-pending",
            LogId = "log-pending",
        },
        new TaskSucceeded
        {
            JobId = "job-succeeded",
            TaskType = TaskTypes.GenerateCartoonizedImage,
            ResultUrls = ["https://files.example/results/a.png", "https://files.example/results/b.png?x=1&y=2"],
            ResultsExpireAt = At.AddHours(24),
            Attempts = 3,
            RequestId = "req-succeeded",
            LogId = "log-succeeded",
            Data = JsonSerializer.Deserialize<JsonElement>(
                """{"image_list":["https://files.example/results/a.png"],"elapsed":1.250,"big":12345678901234567890,"note":"""
                + JsonSerializer.Serialize(Awkward)
                + ""","nested":{"empty":[],"none":null,"flag":true}}"""),
        },
        new TaskFailed
        {
            JobId = "job-failed",
            TaskType = TaskTypes.HdColourMigration,
            Reason = FailureReasons.ApiError,
            ErrorCode = "ERROR_NOT_ENOUGH_CREDITS",
            ErrorMessage = Awkward,
            HttpStatus = 402,
            Attempts = 1,
            RequestId = "req-failed",
            LogId = "log-failed",
        },
        new GetTaskStatus { JobId = "job-asked", TaskType = TaskTypes.HdColourMigration },
        new CancelTaskResult { JobId = "job-cancelled", TaskType = TaskTypes.HdColourMigration, Reason = Awkward },
        new TaskCancellation
        {
            JobId = "job-cancelled",
            TaskType = TaskTypes.HdColourMigration,
            Outcome = CancelOutcomes.Cancelled,
            Status = new TaskStatus
            {
                JobId = "job-cancelled",
                TaskType = TaskTypes.HdColourMigration,
                State = TaskStates.Cancelled,
                Available = true,
                Message = "cancelled",
                LastStatus = "QUEUING",
                Attempts = 2,
                NextCheckAt = null,
                Deadline = At.AddMinutes(30),
                FirstCheckAt = At,
                UpdatedAt = At.AddSeconds(12.5),
                Failed = new TaskFailed { JobId = "job-cancelled", TaskType = TaskTypes.HdColourMigration, Reason = FailureReasons.Cancelled, ErrorMessage = Awkward, Attempts = 2 },
            },
        },
        new TaskStatus
        {
            JobId = "job-asked",
            TaskType = TaskTypes.GenerateCartoonizedImage,
            State = TaskStates.Succeeded,
            Available = true,
            Attempts = 1,
            Deadline = At.AddMinutes(30),
            FirstCheckAt = At,
            UpdatedAt = At.AddSeconds(3),
            Succeeded = new TaskSucceeded { JobId = "job-asked", TaskType = TaskTypes.GenerateCartoonizedImage, ResultUrls = ["https://files.example/results/c.png"], ResultsExpireAt = At.AddHours(24), Attempts = 1 },
            TraceId = "4bf92f3577b34da6a3ce929d0e0e4736",
            Checks = [new TaskCheck { At = At.AddSeconds(3), Attempt = 1, Status = "PROCESS_SUCCESS", State = TaskStates.Succeeded }],
        },
    ];
}
