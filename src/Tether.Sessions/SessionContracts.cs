using Tether.Nats;

namespace Tether.Sessions;

/// <summary>
/// The stable contract names of every message of Tether.Sessions, in one place. Register them on every node that talks to
/// the session manager over NATS: <c>SessionContracts.Register(brokerOptions.Contracts)</c>.
/// </summary>
public static class SessionContracts
{
    /// <summary>Each message type and its contract name.</summary>
    public static IReadOnlyDictionary<Type, string> Names { get; } = new Dictionary<Type, string>
    {
        [typeof(Login)] = "tether.sessions.login",
        [typeof(LoginResult)] = "tether.sessions.login-result",
        [typeof(VerifySession)] = "tether.sessions.verify",
        [typeof(ConfirmSession)] = "tether.sessions.confirm",
        [typeof(SessionIdentity)] = "tether.sessions.identity",
        [typeof(RenewSession)] = "tether.sessions.renew",
        [typeof(Logout)] = "tether.sessions.logout",
        [typeof(CreateUser)] = "tether.sessions.create-user",
        [typeof(SetPassword)] = "tether.sessions.set-password",
        [typeof(GrantRight)] = "tether.sessions.grant-right",
        [typeof(RevokeRight)] = "tether.sessions.revoke-right",
        [typeof(DisableUser)] = "tether.sessions.disable-user",
        [typeof(EnableUser)] = "tether.sessions.enable-user",
        [typeof(ListUsers)] = "tether.sessions.list-users",
        [typeof(UserInfo)] = "tether.sessions.user",
        [typeof(UserList)] = "tether.sessions.user-list",
        [typeof(SessionsRevoked)] = "tether.sessions.revoked",
    };

    /// <summary>Registers every message type of <see cref="Names"/> in <paramref name="registry"/>; returns it.</summary>
    public static ContractRegistry Register(ContractRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry
            .Register<Login>(Names[typeof(Login)])
            .Register<LoginResult>(Names[typeof(LoginResult)])
            .Register<VerifySession>(Names[typeof(VerifySession)])
            .Register<ConfirmSession>(Names[typeof(ConfirmSession)])
            .Register<SessionIdentity>(Names[typeof(SessionIdentity)])
            .Register<RenewSession>(Names[typeof(RenewSession)])
            .Register<Logout>(Names[typeof(Logout)])
            .Register<CreateUser>(Names[typeof(CreateUser)])
            .Register<SetPassword>(Names[typeof(SetPassword)])
            .Register<GrantRight>(Names[typeof(GrantRight)])
            .Register<RevokeRight>(Names[typeof(RevokeRight)])
            .Register<DisableUser>(Names[typeof(DisableUser)])
            .Register<EnableUser>(Names[typeof(EnableUser)])
            .Register<ListUsers>(Names[typeof(ListUsers)])
            .Register<UserInfo>(Names[typeof(UserInfo)])
            .Register<UserList>(Names[typeof(UserList)])
            .Register<SessionsRevoked>(Names[typeof(SessionsRevoked)]);
    }
}
