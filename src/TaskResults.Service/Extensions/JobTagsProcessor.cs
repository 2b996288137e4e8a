using System.Diagnostics;
using OpenTelemetry;

namespace TaskResults.Service.Extensions;

/// <summary>
/// Gives every span started inside a check (the API span, HTTP, MassTransit's publish and send)
/// the job's attributes from its parent, so any one span answers "which job, which attempt".
/// </summary>
public sealed class JobTagsProcessor : BaseProcessor<Activity>
{
    public override void OnStart(Activity activity)
    {
        if (activity.Parent is not { } parent) return;
        foreach (var name in TaskResultsTelemetry.Tags.Inherited)
        {
            if (activity.GetTagItem(name) is null && parent.GetTagItem(name) is { } value) activity.SetTag(name, value);
        }
    }
}
