using Tether.Nats;

namespace Tether.Skin;

/// <summary>The messages between client targets and dialogs, under their contract names, for dialogs on other nodes.</summary>
public static class SkinContracts
{
    /// <summary>
    /// Registers the skin's messages (<c>skin.mount</c>, <c>skin.event</c>, <c>skin.view</c>, <c>skin.session</c>,
    /// <c>skin.open</c>) in <paramref name="registry"/>. Call it on every node that hosts a web endpoint or dialogs.
    /// </summary>
    public static ContractRegistry RegisterSkin(this ContractRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry
            .Register<DialogMount>("skin.mount")
            .Register<UiEvent>("skin.event")
            .Register<ViewUpdate>("skin.view")
            .Register<SessionEstablished>("skin.session")
            .Register<OpenDialog>("skin.open");
    }
}
