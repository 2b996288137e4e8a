using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TaskResults.Service;

/// <summary>The service's own activity source and meter, both named <see cref="Name"/>.</summary>
public static class TaskResultsTelemetry
{
    public const string Name = "TaskResults";

    public static readonly ActivitySource Source = new(Name);
}
