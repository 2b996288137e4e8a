using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TaskResults.Tests.Support;

/// <summary>
/// A broker on 127.0.0.1 (port 0) that lets AMQP 0-9-1 clients connect and open channels, then never
/// answers anything else: what a node still recovering its queues, or a paused one, looks like to a
/// client. Just enough of the protocol for RabbitMQ.Client's handshake.
/// </summary>
public sealed class SilentAmqpServer : IAsyncDisposable
{
    private const byte MethodFrame = 1;
    private const byte FrameEnd = 0xCE;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _queueDeclares;

    public SilentAmqpServer()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public string ConnectionString => $"amqp://guest:guest@127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";

    /// <summary>How many queue declares came in (each left unanswered).</summary>
    public int QueueDeclares => Volatile.Read(ref _queueDeclares);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try { await _accepting; }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException) { }
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        try
        {
            await stream.ReadExactlyAsync(new byte[8], _stop.Token); // "AMQP" 0 0 9 1
            // connection.start: version 0-9, no server properties, PLAIN, en_US.
            await SendMethod(stream, 0, 10, 10, [0, 9, .. Long(0), .. LongString("PLAIN"), .. LongString("en_US")]);
            while (!_stop.IsCancellationRequested)
            {
                var (type, channel, classId, methodId) = await ReadFrame(stream);
                if (type != MethodFrame) continue; // heartbeats
                switch ((classId, methodId))
                {
                    case (10, 11): // start-ok: tune (2047 channels, 128 KiB frames, no heartbeat)
                        await SendMethod(stream, 0, 10, 30, [.. Short(2047), .. Long(131072), .. Short(0)]);
                        break;
                    case (10, 31): // tune-ok
                        break;
                    case (10, 40): // connection.open: open-ok
                        await SendMethod(stream, 0, 10, 41, [0]);
                        break;
                    case (20, 10): // channel.open: open-ok
                        await SendMethod(stream, channel, 20, 11, Long(0));
                        break;
                    case (50, 10): // queue.declare: never answered
                        Interlocked.Increment(ref _queueDeclares);
                        break;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or EndOfStreamException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, or the server stops.
        }
    }

    private async Task<(byte Type, ushort Channel, ushort ClassId, ushort MethodId)> ReadFrame(NetworkStream stream)
    {
        var header = new byte[7];
        await stream.ReadExactlyAsync(header, _stop.Token);
        var payload = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(3)) + 1];
        await stream.ReadExactlyAsync(payload, _stop.Token);
        if (header[0] != MethodFrame) return (header[0], 0, 0, 0);
        return (header[0], BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(1)), BinaryPrimitives.ReadUInt16BigEndian(payload), BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(2)));
    }

    private async Task SendMethod(NetworkStream stream, ushort channel, ushort classId, ushort methodId, byte[] arguments)
    {
        byte[] payload = [.. Short(classId), .. Short(methodId), .. arguments];
        byte[] frame = [MethodFrame, .. Short(channel), .. Long((uint)payload.Length), .. payload, FrameEnd];
        await stream.WriteAsync(frame, _stop.Token);
    }

    private static byte[] Short(ushort value) => [(byte)(value >> 8), (byte)value];

    private static byte[] Long(uint value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

    private static byte[] LongString(string value) => [.. Long((uint)value.Length), .. System.Text.Encoding.ASCII.GetBytes(value)];
}
