namespace TaskResults.Contracts;

/// <summary>The values of <see cref="CheckTaskResult.TaskType"/> (wire values, case-sensitive).</summary>
public static class TaskTypes
{
    /// <summary>HD colour migration, queried at <c>/api/image/asyn-task-results</c>.</summary>
    public const string HdColourMigration = "HD_COLOUR_MIGRATION";

    /// <summary>AI cartoon generator, queried at <c>/api/image/asyn-task-results</c>.</summary>
    public const string GenerateCartoonizedImage = "GENERATE_CARTOONIZED_IMAGE";

    /// <summary>A job of the vendor's newer APIs, whose id is a <c>task_id</c> queried at <c>/api/common/query-async-task-result</c>.</summary>
    public const string AsyncTask = "ASYNC_TASK";

    /// <summary>Every value the service accepts.</summary>
    public static IReadOnlyList<string> All { get; } = [HdColourMigration, GenerateCartoonizedImage, AsyncTask];
}
