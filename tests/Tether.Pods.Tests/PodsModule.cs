using Microsoft.Extensions.Configuration;
using Tether.Hosting;
using Tether.Nats;

namespace Tether.Pods.Tests;

/// <summary>Asks a target who it is: its node and address.</summary>
public sealed record WhoAreYou : IRequest<Identity>;

public sealed record Identity(string Node, Address Self);

/// <summary>Asks a role target to create an instance from <paramref name="Factory"/>, tethered to itself (WithOwner).</summary>
public sealed record MakeHeld(string Factory) : IRequest<Identity>;

/// <summary>A request the target keeps open (its reply token is held, never answered): a request in flight.</summary>
public sealed record Hold(int Seq) : IRequest<int>;

/// <summary>An event on the durable topic "stock".</summary>
public sealed record StockLevel(int Seq);

/// <summary>How many <see cref="Hold"/> requests the target holds open.</summary>
public sealed record CountHeld : IRequest<int>;

/// <summary>
/// The module the local pods' nodes host until the demo application lands: per role in <c>Tether:Demo:Roles</c> a
/// <see cref="RoleTarget"/> registered as service ROLE and a factory "ROLE-held"; on every pod one more as service "echo".
/// </summary>
public sealed class PodsModule(IConfiguration configuration) : ITetherModule
{
    public static ContractRegistry Contracts(ContractRegistry contracts) => contracts
        .Register<WhoAreYou>("pods.who")
        .Register<Identity>("pods.identity")
        .Register<MakeHeld>("pods.make-held")
        .Register<Hold>("pods.hold")
        .Register<CountHeld>("pods.count-held")
        .Register<StockLevel>("pods.stock");

    public void RegisterContracts(ContractRegistry contracts) => Contracts(contracts);

    public void Start(Node node)
    {
        string roles = configuration["Tether:Demo:Roles"] ?? throw new InvalidOperationException("PodsModule needs Tether:Demo:Roles (Tether__Demo__Roles), e.g. web,dialogs");
        foreach (string role in roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            node.RegisterService(role, node.Spawn(() => new RoleTarget(), new SpawnOptions { MailboxCapacity = 50_000 }));
            node.RegisterFactory(role + "-held", _ => new RoleTarget());
        }

        node.RegisterService("echo", node.Spawn(() => new RoleTarget(), new SpawnOptions { MailboxCapacity = 50_000 }));
    }
}

/// <summary>Says who it is, creates tethered instances on request, and holds <see cref="Hold"/> requests open.</summary>
public sealed class RoleTarget : Target, ITarget<RoleTarget>
{
    private readonly List<ReplyToken<int>> _held = [];

    public static void Wire(Channels<RoleTarget> channels) => channels
        .Request<WhoAreYou, Identity>(static (self, m, ctx) => new Identity(ctx.Self.Node, ctx.Self))
        .RequestAsync<MakeHeld, Identity>(static async (self, m, ctx) =>
        {
            Address instance = await ctx.Create(m.Factory, null, TetherPolicy.WithOwner);
            return new Identity(instance.Node, instance);
        })
        .Deferred<Hold, int>(static (self, m, token, ctx) => self._held.Add(token))
        .Request<CountHeld, int>(static (self, m, ctx) => self._held.Count);
}

/// <summary>Subscribes to a durable topic ("stock" unless told) and keeps every <see cref="StockLevel"/> it is handed.</summary>
public sealed class StockWatcher(System.Collections.Concurrent.ConcurrentQueue<int> seen, string topic = "stock") : Target, ITarget<StockWatcher>
{
    public static void Wire(Channels<StockWatcher> channels) => channels.On<StockLevel>(static (self, m, _) => self.Seen(m));

    protected override void OnStarted(Context context) => context.Subscribe(topic);

    private void Seen(StockLevel level) => seen.Enqueue(level.Seq);
}
