using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Tether.Skin.Internal;

/// <summary>
/// One browser socket: a receive loop that checks every frame (size, JSON, rate) before anything reaches the client
/// target, and a single writer that drains the frames the client target queues. Owns the socket's closing, in one place.
/// </summary>
internal sealed class SkinConnection
{
    private const int InitialBuffer = 1024;

    private static readonly TimeSpan s_closeGrace = TimeSpan.FromSeconds(2);

    private readonly WebSocket _socket;
    private readonly SkinServer _server;
    private readonly Channel<byte[]> _outbound;
    private readonly CancellationTokenSource _abort = new();
    private long _lastSeen = Environment.TickCount64;
    private double _tokens;
    private long _refill = Environment.TickCount64;
    private long _refused;
    private int _closing;
    private int _reported;
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;
    private string _closeText = "";

    public SkinConnection(WebSocket socket, SkinServer server)
    {
        _socket = socket;
        _server = server;
        _tokens = server.Options.EventBurst;
        _outbound = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(server.Options.MaxQueuedFrames)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>The client target this socket belongs to (set before <see cref="RunAsync"/>, changed on resume).</summary>
    public Address Client { get; set; }

    /// <summary>Queues a frame for the browser; a browser too slow to take them is disconnected.</summary>
    public void Send(byte[] frame)
    {
        if (Volatile.Read(ref _closing) != 0)
        {
            return;
        }

        if (_outbound.Writer.TryWrite(frame))
        {
            SkinMetrics.FramesOut.Add(1);
            return;
        }

        Close(WebSocketCloseStatus.PolicyViolation, "too slow: frames for this client piled up");
    }

    /// <summary>Sends the renderer a ping (it answers with a pong, which counts as a sign of life).</summary>
    public void Ping() => Send(OutFrames.Ping);

    /// <summary>
    /// Closes the socket when nothing arrived within the ping timeout (the server's liveness sweep calls this often, so a
    /// socket that just died is found at most one sweep period after the timeout).
    /// </summary>
    public void CheckAlive(long now)
    {
        long idle = now - Interlocked.Read(ref _lastSeen);
        if (idle > (long)_server.Options.PingTimeout.TotalMilliseconds && Volatile.Read(ref _closing) == 0)
        {
            Log.PingTimeout(_server.Logger, Client, idle);
            Close((WebSocketCloseStatus)4000, "ping timeout");
        }
    }

    /// <summary>
    /// Closes the socket with <paramref name="status"/> after the frames already queued; aborts it if the close does not
    /// finish in time. The client target is told at once (<paramref name="tellClient"/>), not when the socket is finally
    /// down: a dead peer never answers the close, and its client and dialogs must not wait for the grace period.
    /// </summary>
    public void Close(WebSocketCloseStatus status, string text, bool tellClient = true)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        _closeStatus = status;
        _closeText = text;
        _outbound.Writer.TryComplete();
        try
        {
            _abort.CancelAfter(s_closeGrace);
        }
        catch (ObjectDisposedException)
        {
            // The connection is already over.
        }

        if (tellClient)
        {
            ReportClosed();
        }
        else
        {
            Interlocked.Exchange(ref _reported, 1); // the client target itself is ending
        }
    }

    /// <summary>Tells the client target, once, that this socket is gone.</summary>
    public void ReportClosed()
    {
        Address client = Client;
        if (!client.IsNone && Interlocked.Exchange(ref _reported, 1) == 0)
        {
            _server.Node.Send(client, new SocketClosed(this));
        }
    }

    public async Task RunAsync(CancellationToken requestAborted)
    {
        using CancellationTokenRegistration _ = requestAborted.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _abort);
        Task writer = WriteLoop();
        try
        {
            await ReadLoop().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // The socket died or was aborted after a close that did not finish: the client target learns it the same way.
        }
        finally
        {
            Interlocked.Exchange(ref _closing, 1);
            _outbound.Writer.TryComplete();
            try
            {
                await writer.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
            {
                // As above.
            }

            if (_socket.State is not (WebSocketState.Closed or WebSocketState.Aborted))
            {
                _socket.Abort();
            }

            _abort.Dispose();
        }
    }

    private async Task ReadLoop()
    {
        int max = _server.Options.MaxFrameBytes;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
        try
        {
            int count = 0;
            while (true)
            {
                ValueWebSocketReceiveResult r = await _socket.ReceiveAsync(buffer.AsMemory(count), _abort.Token).ConfigureAwait(false);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    Close(WebSocketCloseStatus.NormalClosure, "");
                    return;
                }

                Interlocked.Exchange(ref _lastSeen, Environment.TickCount64);
                if (Volatile.Read(ref _closing) != 0)
                {
                    count = 0; // closing: the rest of what the browser sends is read and dropped until its close arrives
                    continue;
                }

                count += r.Count;
                if (!r.EndOfMessage)
                {
                    if (count < buffer.Length)
                    {
                        continue;
                    }

                    if (count >= max)
                    {
                        RefuseOversized(max);
                        count = 0;
                        continue;
                    }

                    byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Min(max + 1, buffer.Length * 4));
                    buffer.AsSpan(0, count).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                    continue;
                }

                if (count > max)
                {
                    RefuseOversized(max);
                    count = 0;
                    continue;
                }

                SkinMetrics.FramesIn.Add(1);
                if (r.MessageType == WebSocketMessageType.Binary)
                {
                    _server.BadFrame("binary");
                    Send(OutFrames.Error("bad-frame", "Binary frames are not read; send JSON text frames."));
                }
                else
                {
                    Handle(buffer.AsMemory(0, count));
                }

                count = 0;
                if (buffer.Length > InitialBuffer * 4)
                {
                    // A large frame passed: give its buffer back, an idle connection keeps a small one.
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A frame over the limit: counted, logged, and the connection closed with 1009 (what follows is read and dropped).</summary>
    private void RefuseOversized(int max)
    {
        _server.BadFrame("oversized");
        Log.Oversized(_server.Logger, Client, max);
        Close(WebSocketCloseStatus.MessageTooBig, $"a frame may have at most {max} bytes");
    }

    private void Handle(ReadOnlyMemory<byte> frame)
    {
        object? message = BrowserFrames.Parse(frame, out string error);
        if (ReferenceEquals(message, BrowserFrames.Pong))
        {
            return;
        }

        if (!TakeToken())
        {
            _server.RateLimitedFrame();
            long refused = Interlocked.Increment(ref _refused);
            if (refused >= _server.Options.FloodCloseAfter)
            {
                Log.Flood(_server.Logger, Client, refused);
                Close(WebSocketCloseStatus.PolicyViolation, "flood: too many frames");
            }
            else if (refused % 50 == 1)
            {
                Send(OutFrames.Error("rate-limited", $"Too many frames: at most {_server.Options.EventsPerSecond} a second (bursts of {_server.Options.EventBurst}); this one was dropped."));
            }

            return;
        }

        if (message is null)
        {
            _server.BadFrame("malformed");
            Log.Malformed(_server.Logger, Client, error);
            Send(OutFrames.Error("bad-frame", error));
            return;
        }

        _server.Node.Send(Client, message);
    }

    private bool TakeToken()
    {
        SkinOptions o = _server.Options;
        long now = Environment.TickCount64;
        _tokens = Math.Min(o.EventBurst, _tokens + ((now - _refill) * o.EventsPerSecond / 1000.0));
        _refill = now;
        if (_tokens < 1)
        {
            return false;
        }

        _tokens--;
        return true;
    }

    private async Task WriteLoop()
    {
        while (await _outbound.Reader.WaitToReadAsync(_abort.Token).ConfigureAwait(false))
        {
            while (_outbound.Reader.TryRead(out byte[]? frame))
            {
                await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, _abort.Token).ConfigureAwait(false);
            }
        }

        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await _socket.CloseOutputAsync(_closeStatus, _closeText, _abort.Token).ConfigureAwait(false);
        }
    }
}
