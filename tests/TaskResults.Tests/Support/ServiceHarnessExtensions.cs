using System.Text.Json;
using MassTransit;
using MassTransit.Serialization;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TaskResults.Service.Options;
using TaskResults.Service.Scheduling;

namespace TaskResults.Tests.Support;

public static class ServiceHarnessExtensions
{
    /// <summary>
    /// Waits until the bus has been idle for the harness's inactivity timeout. Counts taken afterwards
    /// are final, so "exactly one call" and "no TaskPending" cannot pass just because a late message
    /// had not arrived yet. Costs nothing extra: the harness's teardown waits for the same idle time.
    /// </summary>
    public static async Task UntilQuiet(this ServiceHarness service) => await service.Harness.InactivityTask;

    /// <summary>The wait after a pending answer that the service under test is configured with (Polling:Interval).</summary>
    public static TimeSpan PollingInterval(this ServiceHarness service) => service.Services.GetRequiredService<IOptions<PollingOptions>>().Value.Interval;

    /// <summary>Every delivery of <see cref="CheckTaskResult"/> the service consumed for one job (the first and each recheck), in order.</summary>
    public static IReadOnlyList<IReceivedMessage<CheckTaskResult>> Checks(this ServiceHarness service, string jobId) =>
        service.Harness.Consumed.Select<CheckTaskResult>().Where(m => m.Context.Message.JobId == jobId).ToList();

    /// <summary>
    /// Everything the service put on the bus (published events, rescheduled commands), body and
    /// headers, as JSON written the way MassTransit writes it on the wire.
    /// </summary>
    public static IEnumerable<string> EverythingOnTheBusAsJson(this ServiceHarness service)
    {
        foreach (var published in service.Harness.Published.Select(_ => true))
        {
            yield return JsonSerializer.Serialize(published.MessageObject, published.MessageType, SystemTextJsonMessageSerializer.Options);
            yield return JsonSerializer.Serialize(published.Context.Headers.GetAll(), SystemTextJsonMessageSerializer.Options);
        }

        foreach (var sent in service.Harness.Sent.Select(_ => true))
        {
            yield return JsonSerializer.Serialize(sent.MessageObject, sent.MessageType, SystemTextJsonMessageSerializer.Options);
            yield return JsonSerializer.Serialize(sent.Context.Headers.GetAll(), SystemTextJsonMessageSerializer.Options);
        }
    }
}

/// <summary>The ids a sender sets on a command and expects back on every event about it.</summary>
public sealed record MessageIds(Guid CorrelationId, Guid ConversationId)
{
    public static MessageIds New() => new(NewId.NextGuid(), NewId.NextGuid());

    public void ApplyTo(SendContext context)
    {
        context.CorrelationId = CorrelationId;
        context.ConversationId = ConversationId;
    }

    public void AssertCarriedBy(SendContext context)
    {
        Assert.Equal(CorrelationId, context.CorrelationId);
        Assert.Equal(ConversationId, context.ConversationId);
    }
}
