using System.Net.WebSockets;
using System.Security.Cryptography;

namespace Tether.Skin.Internal;

/// <summary>
/// The server-side proxy of one browser connection, and the owner of every dialog it opens (tethered to it with
/// <see cref="TetherPolicy.WithOwner"/>, so they end with it on every node). It holds the connection's session token
/// and attaches it to every creation, mount and user event it forwards. As their owner it learns of every dialog's end
/// (<see cref="TargetEnded"/>; from another node through the transport's watch) and tells the renderer the dialog closed.
/// </summary>
internal sealed class ClientTarget(SkinServer server, SkinApplication app, SkinConnection connection) : Target, ITarget<ClientTarget>
{
    private readonly SkinServer _server = server;
    private readonly SkinApplication _app = app;
    private readonly Dictionary<int, DialogEntry> _dialogs = [];
    private readonly Dictionary<Address, int> _ids = [];
    private SkinConnection? _connection = connection;
    private string? _token;
    private string? _resume;
    private IDisposable? _resumeTimer;
    private int _lastId;
    private bool _ended;

    public static void Wire(Channels<ClientTarget> channels) => channels
        .OnAsync<BrowserOpen>(static (self, m, ctx) => self.OpenAsync(m.Dialog, m.Argument, m.Ref, ctx))
        .OnAsync<OpenDialog>(static (self, m, ctx) => self.FromDialog(ctx) ? self.OpenAsync(m.Dialog, m.Argument, null, ctx) : default)
        .On<BrowserEvent>(static (self, m, ctx) => self.Forward(m, ctx))
        .On<BrowserClose>(static (self, m, ctx) => self.CloseDialog(m, ctx))
        .On<ViewUpdate>(static (self, m, ctx) => self.Update(m, ctx))
        .On<SessionEstablished>(static (self, m, ctx) => self.Establish(m, ctx))
        .On<TargetEnded>(static (self, m, ctx) => self.DialogEnded(m))
        .On<SocketClosed>(static (self, m, ctx) => self.SocketClosed(m, ctx))
        .Request<Reattach, bool>(static (self, m, ctx) => self.Reattach(m, ctx))
        .On<ResumeExpired>(static (self, m, ctx) => self.ResumeExpired(ctx))
        .On<PingTick>(static (self, m, ctx) => self._connection?.Ping());

    protected override void OnStarted(Context context)
    {
        _server.ClientStarted();
        SkinMetrics.Clients.Add(1);
        if (_server.Options.ResumeWindow > TimeSpan.Zero)
        {
            _resume = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_');
        }

        context.ScheduleEvery(_server.Options.PingTimeout / 2, PingTick.Instance);
        _connection?.Send(OutFrames.Welcome(_app.Name, _app.StartDialog, _resume, resumed: false));
        Log.ClientStarted(_server.Logger, context.Self, _app.Name);
    }

    protected override void OnEnded(Context context, string reason)
    {
        _ended = true;
        _server.ClientEnded();
        SkinMetrics.Clients.Add(-1);
        _server.DialogsChanged(-_dialogs.Count);
        if (_resume is not null)
        {
            _server.RemoveResumable(_resume);
        }

        _connection?.Close(WebSocketCloseStatus.NormalClosure, "client ended", tellClient: false);
        Log.ClientEnded(_server.Logger, context.Self, reason, _dialogs.Count);
        _dialogs.Clear();
        _ids.Clear();
    }

    private async ValueTask OpenAsync(string dialog, string? argument, string? reference, Context ctx)
    {
        if (!_app.Dialogs.TryGetValue(dialog, out string? service))
        {
            Refuse("unknown-dialog-name", "no-such-dialog", $"Application \"{_app.Name}\" has no dialog \"{dialog}\".", 0, reference, ctx);
            return;
        }

        if (_app.IsProtected && _token is null && !string.Equals(dialog, _app.LoginDialog, StringComparison.Ordinal))
        {
            Refuse("unauthenticated", ErrorCodes.Unauthenticated, $"Application \"{_app.Name}\" requires signing in: only \"{_app.LoginDialog}\" opens before that.", 0, reference, ctx);
            return;
        }

        Address instance;
        try
        {
            instance = await ctx.WithSession(_token).Create(service, null, TetherPolicy.WithOwner, _server.Options.OpenTimeout);
        }
        catch (TetherException ex)
        {
            Refuse("open-failed", ex.Code, $"Dialog \"{dialog}\" could not be opened: {ex.Message}", 0, reference, ctx);
            return;
        }

        if (_ended)
        {
            return; // the client ended while the dialog was created: the tether ends the dialog, nothing to show
        }

        int id = ++_lastId;
        _dialogs[id] = new DialogEntry(instance, dialog, argument);
        _ids[instance] = id;
        _server.DialogsChanged(1);
        _connection?.Send(OutFrames.Opened(id, dialog, reference));
        ctx.WithSession(_token).Send(instance, new DialogMount(argument, Resumed: false));
    }

    private void Forward(BrowserEvent m, Context ctx)
    {
        if (_dialogs.TryGetValue(m.Dialog, out DialogEntry? entry))
        {
            try
            {
                ctx.WithSession(_token).Send(entry.Address, m.Event);
            }
            catch (ContractViolationException ex)
            {
                // The contract of skin.event (enforced on output) refused it here, where the browser can still be told.
                Refuse("contract-violation", ex.Code, ex.Message, m.Dialog, null, ctx);
            }

            return;
        }

        RefuseUnknown(m.Dialog, ctx);
    }

    private void CloseDialog(BrowserClose m, Context ctx)
    {
        if (_dialogs.TryGetValue(m.Dialog, out DialogEntry? entry))
        {
            ctx.End(entry.Address);
            return;
        }

        RefuseUnknown(m.Dialog, ctx);
    }

    private void RefuseUnknown(int id, Context ctx)
    {
        if (id <= _lastId)
        {
            Refuse("ended-dialog", "dialog-ended", $"Dialog {id} has ended; its events go nowhere.", id, null, ctx);
        }
        else
        {
            Refuse("unknown-dialog", "no-such-dialog", $"This connection has no dialog {id}.", id, null, ctx);
        }
    }

    private void Refuse(string reason, string code, string text, int dialog, string? reference, Context ctx)
    {
        _server.BadFrame(reason);
        Log.Refused(_server.Logger, ctx.Self, reason, text);
        _connection?.Send(OutFrames.Error(code, text, dialog, reference));
    }

    private bool FromDialog(Context ctx) => _ids.ContainsKey(ctx.Sender);

    private void Update(ViewUpdate m, Context ctx)
    {
        if (_ids.TryGetValue(ctx.Sender, out int id))
        {
            _connection?.Send(OutFrames.Patch(id, m.Ops));
        }
    }

    private void Establish(SessionEstablished m, Context ctx)
    {
        if (FromDialog(ctx))
        {
            _token = m.Token;
        }
    }

    private void DialogEnded(TargetEnded m)
    {
        if (_ids.Remove(m.Instance, out int id))
        {
            _dialogs.Remove(id);
            _server.DialogsChanged(-1);
            _connection?.Send(OutFrames.Closed(id, m.Reason));
        }
    }

    private void SocketClosed(SocketClosed m, Context ctx)
    {
        if (!ReferenceEquals(m.Connection, _connection))
        {
            return; // an earlier socket, replaced on resume
        }

        _connection = null;
        if (_resume is null)
        {
            ctx.EndSelf();
            return;
        }

        _server.AddResumable(_resume, ctx.Self);
        _resumeTimer = ctx.Schedule(_server.Options.ResumeWindow, new ResumeExpired(m.Connection));
    }

    private void ResumeExpired(Context ctx)
    {
        if (_connection is null)
        {
            ctx.EndSelf();
        }
    }

    private bool Reattach(Reattach m, Context ctx)
    {
        if (_connection is not null)
        {
            return false;
        }

        _resumeTimer?.Dispose();
        _resumeTimer = null;
        _connection = m.Connection;
        m.Connection.Client = ctx.Self;
        m.Connection.Send(OutFrames.Welcome(_app.Name, _app.StartDialog, _resume, resumed: true));
        foreach ((int id, DialogEntry entry) in _dialogs)
        {
            m.Connection.Send(OutFrames.Opened(id, entry.Name, null));
            ctx.WithSession(_token).Send(entry.Address, new DialogMount(entry.Argument, Resumed: true));
        }

        return true;
    }

    private sealed record DialogEntry(Address Address, string Name, string? Argument);
}
