using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Tether.Skin.Tests.Support;

/// <summary>A browser stand-in over a plain ClientWebSocket, for frames no real renderer would send.</summary>
internal sealed class RawClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly byte[] _buffer = new byte[16 * 1024];

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseText => _socket.CloseStatusDescription;

    public WebSocketState State => _socket.State;

    /// <summary>Answers pings (a live renderer) unless told not to.</summary>
    public bool AnswerPings { get; set; } = true;

    /// <summary>Connects to <paramref name="host"/>'s socket for <paramref name="app"/>; <paramref name="route"/> may send it through a relay.</summary>
    public static async Task<RawClient> ConnectAsync(SkinHost host, string app, string? origin = null, string? resume = null, Func<Uri, Uri>? route = null)
    {
        var client = new RawClient();
        if (origin is not null)
        {
            client._socket.Options.SetRequestHeader("Origin", origin);
        }

        Uri uri = route is null ? host.Socket(app) : route(host.Socket(app));
        if (resume is not null)
        {
            uri = new Uri(uri + "&resume=" + Uri.EscapeDataString(resume));
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client._socket.ConnectAsync(uri, deadline.Token);
        return client;
    }

    /// <summary>Connects, reads the welcome, opens the start dialog and reads "opened" and its first render; returns the dialog id.</summary>
    public static async Task<(RawClient Client, int Dialog, JsonElement Welcome)> OpenAsync(SkinHost host, string app, string dialog, Func<Uri, Uri>? route = null)
    {
        RawClient client = await ConnectAsync(host, app, route: route);
        JsonElement welcome = await client.ExpectAsync("welcome");
        await client.SendAsync($$"""{"t":"open","dialog":"{{dialog}}","ref":"r1"}""");
        JsonElement opened = await client.ExpectAsync("opened");
        Assert.Equal("r1", opened.GetProperty("ref").GetString());
        int id = opened.GetProperty("d").GetInt32();
        JsonElement render = await client.ExpectAsync("patch");
        Assert.Equal("render", render.GetProperty("ops")[0].GetProperty("op").GetString());
        return (client, id, welcome);
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Text)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _socket.SendAsync(bytes, type, endOfMessage: true, deadline.Token);
    }

    /// <summary>The next frame other than a ping, or null when the server closed the socket.</summary>
    public async Task<JsonElement?> ReceiveAsync(TimeSpan? deadline = null)
    {
        using var cts = new CancellationTokenSource(deadline ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            int count = 0;
            WebSocketReceiveResult r;
            do
            {
                try
                {
                    r = await _socket.ReceiveAsync(new ArraySegment<byte>(_buffer, count, _buffer.Length - count), cts.Token);
                }
                catch (OperationCanceledException)
                {
                    Assert.Fail($"No frame from the server within {(deadline ?? TimeSpan.FromSeconds(15)).TotalSeconds:0.#} s.");
                    throw;
                }

                if (r.MessageType == WebSocketMessageType.Close)
                {
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                    }

                    return null;
                }

                count += r.Count;
            }
            while (!r.EndOfMessage);

            JsonElement frame = JsonDocument.Parse(_buffer.AsMemory(0, count)).RootElement.Clone();
            if (frame.GetProperty("t").GetString() == "ping")
            {
                if (AnswerPings)
                {
                    await SendAsync("""{"t":"pong"}""");
                }

                continue;
            }

            return frame;
        }
    }

    /// <summary>Reads frames until one of type <paramref name="type"/> arrives (fails on a close first).</summary>
    public async Task<JsonElement> ExpectAsync(string type, TimeSpan? deadline = null)
    {
        while (true)
        {
            JsonElement? frame = await ReceiveAsync(deadline);
            if (frame is null)
            {
                Assert.Fail($"The server closed the socket ({CloseStatus} {CloseText}) before a \"{type}\" frame.");
            }

            if (frame.Value.GetProperty("t").GetString() == type)
            {
                return frame.Value;
            }
        }
    }

    /// <summary>Reads until the server closes the socket; returns the close status.</summary>
    public async Task<WebSocketCloseStatus?> ExpectCloseAsync(TimeSpan deadline)
    {
        while (await ReceiveAsync(deadline) is not null)
        {
        }

        return CloseStatus;
    }

    public void Abort() => _socket.Abort();

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
            {
                _socket.Abort();
            }
        }

        _socket.Dispose();
    }
}
