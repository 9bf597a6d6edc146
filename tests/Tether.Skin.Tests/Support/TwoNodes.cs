using Tether.Nats;

namespace Tether.Skin.Tests.Support;

/// <summary>A nats-server, a dialogs node with the test dialogs and a bare web node (its SkinHost disposes it).</summary>
internal sealed class TwoNodes : IAsyncDisposable
{
    private readonly NatsServer _nats;
    private readonly BrokerProxy _dialogsProxy;
    private readonly BrokerProxy _webProxy;

    private TwoNodes(NatsServer nats, Node dialogs, Node web, BrokerProxy dialogsProxy, BrokerProxy webProxy)
    {
        _nats = nats;
        Dialogs = dialogs;
        Web = web;
        _dialogsProxy = dialogsProxy;
        _webProxy = webProxy;
    }

    public Node Dialogs { get; }

    public Node Web { get; }

    /// <summary>The web node's broker proxy (what it learned of the other node's services).</summary>
    public BrokerProxy WebProxy => _webProxy;

    /// <summary>The contracts both nodes register for the wire.</summary>
    public static ContractRegistry Contracts => new ContractRegistry().RegisterSkin().Register<Signup>("test.signup").Register<Sleep>("test.sleep");

    public static async Task<TwoNodes> StartAsync()
    {
        NatsServer nats = await NatsServer.StartAsync();
        Node dialogs = Node.Create(new NodeOptions { Name = "dialogs", Adapters = SkinHost.Adapters() });
        Node web = Node.Create(new NodeOptions { Name = "web", Adapters = SkinHost.Adapters() });
        BrokerProxy? dialogsProxy = null;
        TwoNodes? nodes = null;
        try
        {
            dialogsProxy = await BrokerProxy.AttachAsync(dialogs, new BrokerOptions { Url = nats.Url, Contracts = Contracts });
            BrokerProxy webProxy = await BrokerProxy.AttachAsync(web, new BrokerOptions { Url = nats.Url, Contracts = Contracts });
            nodes = new TwoNodes(nats, dialogs, web, dialogsProxy, webProxy);
            SkinHost.RegisterDialogs(dialogs);
            await Eventually.Until(() => webProxy.Peers.Count == 1 && dialogsProxy.Peers.Count == 1, TimeSpan.FromSeconds(10), "the two nodes heard each other");
            return nodes;
        }
        catch
        {
            if (nodes is not null)
            {
                await nodes.DisposeAsync();
                throw;
            }

            if (dialogsProxy is not null)
            {
                await dialogsProxy.DisposeAsync();
            }

            await dialogs.DisposeAsync();
            await web.DisposeAsync();
            nats.Dispose();
            throw;
        }
    }

    /// <summary>Stops the dialogs node as a node goes away: its broker proxy leaves, then the node stops.</summary>
    public async Task StopDialogsNodeAsync()
    {
        await _dialogsProxy.DisposeAsync();
        await Dialogs.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _webProxy.DisposeAsync();
            await _dialogsProxy.DisposeAsync();
        }
        finally
        {
            await Dialogs.DisposeAsync();
            await Web.DisposeAsync(); // a second dispose (the SkinHost's) does nothing
            _nats.Dispose();
        }
    }
}
