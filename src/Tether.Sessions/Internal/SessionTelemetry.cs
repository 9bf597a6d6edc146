using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Tether.Sessions.Internal;

/// <summary>The Meter and ActivitySource "Tether.Sessions". Tags name users, never passwords or tokens.</summary>
internal static class SessionTelemetry
{
    public const string Name = "Tether.Sessions";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter s_meter = new(Name);

    public static readonly Counter<long> Logins = s_meter.CreateCounter<long>("tether.sessions.logins", description: "Successful logins.");
    public static readonly Counter<long> LoginFailures = s_meter.CreateCounter<long>("tether.sessions.login_failures", description: "Failed logins, by reason (wrong-password, unknown-user, disabled, error).");
    public static readonly Counter<long> Revocations = s_meter.CreateCounter<long>("tether.sessions.revocations", description: "Sessions revoked (logout, disabled user).");
    public static readonly Counter<long> VerifiedCached = s_meter.CreateCounter<long>("tether.sessions.verifications.cached", description: "Verifications answered from this node's cache.");
    public static readonly Counter<long> VerifiedRemote = s_meter.CreateCounter<long>("tether.sessions.verifications.remote", description: "Verifications that asked the session manager.");
    public static readonly Counter<long> Refused = s_meter.CreateCounter<long>("tether.sessions.verifications.refused", description: "Verifications refused, by error code.");

    public static void CountRefused(string code) => Refused.Add(1, new KeyValuePair<string, object?>("code", code));
}
