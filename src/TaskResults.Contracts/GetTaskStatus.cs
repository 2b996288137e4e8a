namespace TaskResults.Contracts;

/// <summary>
/// Request: what the service knows of a job, answered with <see cref="TaskStatus"/> (MassTransit's
/// request/response: <c>IRequestClient&lt;GetTaskStatus&gt;</c>). Send it to
/// <see cref="TaskResultsEndpoints.Control"/>. Needs the service's job registry (<c>Registry:Store</c>).
/// </summary>
public record GetTaskStatus
{
    public string JobId { get; init; } = "";
    public string TaskType { get; init; } = "";
}
