namespace Tether.Skin.Internal;

/// <summary>The renderer asks to open a dialog of its application.</summary>
internal sealed record BrowserOpen(string? Ref, string Dialog, string? Argument);

/// <summary>A user event for the dialog with id <paramref name="Dialog"/> on this connection.</summary>
internal sealed record BrowserEvent(int Dialog, UiEvent Event);

/// <summary>The renderer closes a dialog.</summary>
internal sealed record BrowserClose(int Dialog);

/// <summary>The connection's socket has closed (or died).</summary>
internal sealed record SocketClosed(SkinConnection Connection);

/// <summary>A renderer reconnected with the client's resume token: take this connection.</summary>
internal sealed record Reattach(SkinConnection Connection) : IRequest<bool>;

/// <summary>The client's liveness tick.</summary>
internal sealed record PingTick
{
    public static PingTick Instance { get; } = new();
}

/// <summary>The resume window has passed.</summary>
internal sealed record ResumeExpired(SkinConnection? Previous);
