namespace Tether.Internal;

/// <summary>The target behind a registered factory: each <see cref="CreateInstance"/> spawns one tethered instance.</summary>
internal sealed class FactoryTarget(Func<Node, CreateInstance, Address> spawn) : Target, ITarget<FactoryTarget>
{
    public static void Wire(Channels<FactoryTarget> channels)
        => channels.Request<CreateInstance, Address>(static (self, request, ctx) => self.Spawn(ctx.Node, request));

    private Address Spawn(Node node, CreateInstance request) => spawn(node, request);
}
