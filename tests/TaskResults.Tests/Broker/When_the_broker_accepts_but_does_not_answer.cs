using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using TaskResults.Service.Broker;
using TaskResults.Service.Options;
using TaskResults.Tests.Support;

namespace TaskResults.Tests.Broker;

/// <summary>
/// The watch's probe against a broker that lets it connect and open a channel, then leaves the
/// passive declare unanswered (a node recovering its queues after a restart). Unbounded, the probe
/// waited the client's 20 s continuation timeout, and readiness and restarts waited with it.
/// </summary>
public sealed class When_the_broker_accepts_but_does_not_answer : IAsyncLifetime
{
    // Generous for a busy machine, and still far below the client's 20 s.
    private static readonly TimeSpan AnswerWithin = CommandQueueProbe.Timeout + TimeSpan.FromSeconds(7);

    private readonly SilentAmqpServer _broker = new();
    private readonly CommandQueueProbe _probe;

    public When_the_broker_accepts_but_does_not_answer() =>
        _probe = new CommandQueueProbe(
            new BrokerConnections(Microsoft.Extensions.Options.Options.Create(new MessageBusOptions { RabbitMq = _broker.ConnectionString })),
            NullLogger<CommandQueueProbe>.Instance);

    [Fact]
    public async Task Should_report_it_as_not_answering_within_the_probe_timeout_and_try_afresh_next_time()
    {
        for (var probe = 1; probe <= 2; probe++)
        {
            var took = Stopwatch.StartNew();
            var queue = await _probe.ProbeAsync(CancellationToken.None).WaitAsync(AnswerWithin);

            Assert.Null(queue);
            Assert.True(took.Elapsed >= CommandQueueProbe.Timeout - TimeSpan.FromMilliseconds(100), $"Gave up after {took.Elapsed}, before the broker had its time.");
            Assert.Equal(probe, _broker.QueueDeclares);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _probe.DisposeAsync();
        await _broker.DisposeAsync();
    }
}
