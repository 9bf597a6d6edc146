namespace Tether.Sessions.Internal;

/// <summary>A verifier's own small target: it subscribes to the revocation topic and hands each event to the verifier.</summary>
internal sealed class RevocationListener(SessionVerifier verifier, string topic) : Target, ITarget<RevocationListener>
{
    private readonly SessionVerifier _verifier = verifier;
    private readonly string _topic = topic;

    public static void Wire(Channels<RevocationListener> channels) => channels
        .On<SessionsRevoked>(static (self, m, _) => self._verifier.Apply(m));

    protected override void OnStarted(Context context) => context.Subscribe(_topic);
}
