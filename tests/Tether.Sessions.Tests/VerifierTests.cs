using System.Buffers.Text;
using Tether.Sessions.Internal;

namespace Tether.Sessions.Tests;

/// <summary>The node-side verifier: every refusal, the cache, remote verification, revocation and key rotation.</summary>
/// <remarks>In the "telemetry" collection: the allocation test must not run beside a test that listens to the meters.</remarks>
[Collection("telemetry")]
public sealed class VerifierTests : IDisposable
{
    private readonly SqliteKind _store = new();

    public void Dispose() => _store.Dispose();

    private static string Sign(SessionKeys keys, DateTimeOffset expires, params string[] rights)
        => TokenCodec.Write(keys.Signing!, Guid.NewGuid().ToString("N"), "user-1", "ada", rights, DateTimeOffset.UtcNow, expires);

    private static void AssertRefused(SessionVerifier verifier, string token, string right, string code)
    {
        Assert.True(verifier.TryVerifyLocal(token, right, out SessionVerdict verdict), "a refusal known locally must be answered locally");
        Assert.False(verdict.IsAllowed);
        Assert.Equal(code, verdict.ErrorCode);
        Assert.DoesNotContain(token.Length > 0 ? token : "\u0001", verdict.ErrorText ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public void TryVerifyLocal_MissingMalformedOrForeignTokens_AreRefusedUnauthenticated()
    {
        SessionKeys keys = SessionKeys.Generate();
        var verifier = new SessionVerifier(keys.PublicOnly());
        string good = Sign(keys, DateTimeOffset.UtcNow.AddHours(1), "orders.place");

        AssertRefused(verifier, "", "orders.place", ErrorCodes.Unauthenticated);
        AssertRefused(verifier, "not-a-token", "orders.place", ErrorCodes.Unauthenticated);
        AssertRefused(verifier, good + ".extra", "orders.place", ErrorCodes.Unauthenticated);
        AssertRefused(verifier, good.Replace('.', '!'), "orders.place", ErrorCodes.Unauthenticated);
        AssertRefused(verifier, new string('A', 100_000), "orders.place", ErrorCodes.Unauthenticated);
        AssertRefused(verifier, Sign(SessionKeys.Generate(), DateTimeOffset.UtcNow.AddHours(1), "orders.place"), "orders.place", ErrorCodes.Unauthenticated);
        Assert.False(verifier.TryVerifyLocal(good, "orders.place", out _)); // the good one is unknown: the manager must be asked
    }

    [Fact]
    public void TryVerifyLocal_EveryFlippedBitOfTheSignedBytes_IsRefusedUnauthenticated()
    {
        SessionKeys keys = SessionKeys.Generate();
        var verifier = new SessionVerifier(keys.PublicOnly());
        string token = Sign(keys, DateTimeOffset.UtcNow.AddHours(1), "orders.place");
        int dot = token.IndexOf('.', StringComparison.Ordinal);
        byte[] payload = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
        byte[] signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));

        int checkedBits = 0;
        for (int part = 0; part < 2; part++)
        {
            byte[] bytes = part == 0 ? payload : signature;
            for (int bit = 0; bit < bytes.Length * 8; bit++)
            {
                bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                string flipped = Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(signature);
                bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                AssertRefused(verifier, flipped, "orders.place", ErrorCodes.Unauthenticated);
                checkedBits++;
            }
        }

        Assert.Equal((payload.Length + signature.Length) * 8, checkedBits);
        Assert.False(verifier.TryVerifyLocal(token, "orders.place", out _)); // and the original still holds
    }

    [Fact]
    public void TryVerifyLocal_EveryChangedCharacter_IsRefusedUnauthenticated()
    {
        SessionKeys keys = SessionKeys.Generate();
        var verifier = new SessionVerifier(keys.PublicOnly());
        string token = Sign(keys, DateTimeOffset.UtcNow.AddHours(1), "orders.place");

        for (int i = 0; i < token.Length; i++)
        {
            char[] chars = token.ToCharArray();
            chars[i] = chars[i] == 'A' ? 'B' : 'A';
            string changed = new(chars);
            if (changed == token)
            {
                continue;
            }

            // Base64url's last character may carry unused bits: a change there may decode to the same bytes. Those
            // tokens are the same token; every other change must be refused.
            bool sameBytes = i == token.IndexOf('.', StringComparison.Ordinal) - 1 || i == token.Length - 1;
            if (verifier.TryVerifyLocal(changed, "orders.place", out SessionVerdict verdict))
            {
                Assert.Equal(ErrorCodes.Unauthenticated, verdict.ErrorCode);
            }
            else
            {
                Assert.True(sameBytes, $"changing character {i} was not refused");
            }
        }
    }

    [Fact]
    public void TryVerifyLocal_HundredThousandRandomOrTruncatedTokens_AreAllRefusedUnauthenticated_NeverThrowing()
    {
        SessionKeys keys = SessionKeys.Generate();
        var verifier = new SessionVerifier(keys.PublicOnly());
        string good = Sign(keys, DateTimeOffset.UtcNow.AddHours(1), "orders.place", "orders.view");
        var random = new Random(4711);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \u00e9\u0000";
        int refused = 0;
        for (int i = 0; i < 100_000; i++)
        {
            string token = (i % 4) switch
            {
                0 => good[..random.Next(0, good.Length)], // truncated
                1 => new string(Enumerable.Range(0, random.Next(0, 400)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray()),
                2 => Base64Url.EncodeToString(RandomBytes(random, random.Next(0, 300))) + "." + Base64Url.EncodeToString(RandomBytes(random, 64)),
                _ => good[..random.Next(1, good.Length)] + good[random.Next(1, good.Length)..], // a piece cut out
            };
            if (token == good)
            {
                continue;
            }

            Assert.True(verifier.TryVerifyLocal(token, "orders.place", out SessionVerdict verdict), $"token #{i} was not answered locally");
            Assert.Equal(ErrorCodes.Unauthenticated, verdict.ErrorCode);
            refused++;
        }

        Assert.True(refused > 99_000, $"only {refused} tokens were tried");
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        if (length > 0 && random.Next(2) == 0)
        {
            bytes[0] = TokenCodec.Version; // a plausible start, so parsing goes deeper
        }

        return bytes;
    }

    [Fact]
    public void TryVerifyLocal_Expired_IsRefusedSessionExpired_AndMissingRight_Forbidden()
    {
        SessionKeys keys = SessionKeys.Generate();
        var verifier = new SessionVerifier(keys.PublicOnly());

        AssertRefused(verifier, Sign(keys, DateTimeOffset.UtcNow.AddSeconds(-1), "orders.place"), "orders.place", ErrorCodes.SessionExpired);
        AssertRefused(verifier, Sign(keys, DateTimeOffset.UtcNow.AddHours(1), "orders.view"), "orders.place", ErrorCodes.Forbidden);
    }

    [Fact]
    public async Task VerifyAsync_NotAttachedOrNoManager_RefusesWithoutThrowing()
    {
        SessionKeys keys = SessionKeys.Generate();
        string token = Sign(keys, DateTimeOffset.UtcNow.AddHours(1), "orders.place");
        var loose = new SessionVerifier(keys);
        var verifier = new SessionVerifier(keys, new SessionVerifierOptions { VerifyTimeout = TimeSpan.FromSeconds(5) });
        await using Node node = Node.Create(new NodeOptions { Sessions = verifier });
        verifier.Attach(node);

        SessionVerdict notAttached = await loose.VerifyAsync(token, "orders.place", CancellationToken.None);
        SessionVerdict noManager = await verifier.VerifyAsync(token, "orders.place", CancellationToken.None);

        Assert.Equal(ErrorCodes.Unauthenticated, notAttached.ErrorCode);
        Assert.Contains("Attach", notAttached.ErrorText, StringComparison.Ordinal);
        Assert.Equal(ErrorCodes.Unauthenticated, noManager.ErrorCode);
        Assert.Contains(ErrorCodes.NoSuchService, noManager.ErrorText, StringComparison.Ordinal);
        Assert.Equal(0, verifier.CachedCount); // a failure is not cached
        Assert.Throws<InvalidOperationException>(() => verifier.Attach(node));
    }

    [Fact]
    public async Task VerifyAsync_UnknownValidToken_AsksTheManagerOnce_ThenAnswersFromTheCache()
    {
        await using Sessions sessions = await Sessions.StartAsync(_store);
        await sessions.AdminAsync(new CreateUser("ada", "pw", ["orders.place"]));
        LoginResult login = await sessions.LoginAsync("ada", "pw");
        var verifier = new SessionVerifier(sessions.Keys.PublicOnly());
        verifier.Attach(sessions.Node);

        Assert.False(verifier.TryVerifyLocal(login.Token, "orders.place", out _));
        SessionVerdict[] verdicts = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => verifier.VerifyAsync(login.Token, "orders.place", CancellationToken.None).AsTask()));
        bool local = verifier.TryVerifyLocal(login.Token, "orders.place", out SessionVerdict cached);
        bool localForbidden = verifier.TryVerifyLocal(login.Token, "orders.cancel", out SessionVerdict forbidden);

        Assert.All(verdicts, v => Assert.True(v.IsAllowed, v.ErrorText));
        Assert.All(verdicts, v => Assert.Equal("ada", v.Identity!.UserName));
        Assert.True(local);
        Assert.True(cached.IsAllowed);
        Assert.Equal(login.Identity.SessionId, cached.Identity!.SessionId);
        Assert.True(localForbidden);
        Assert.Equal(ErrorCodes.Forbidden, forbidden.ErrorCode);
        Assert.Equal(1, verifier.CachedCount);
    }

    [Fact]
    public async Task VerifyAsync_AManagerWithoutConfirmSession_IsAskedVerifySession_AndItsAnswerDecides()
    {
        // A manager of an earlier version answers ConfirmSession with no-handler: the verifier asks the long question.
        await using Sessions sessions = await Sessions.StartAsync(_store);
        await sessions.AdminAsync(new CreateUser("ada", "pw", ["orders.place"]));
        LoginResult login = await sessions.LoginAsync("ada", "pw");
        LoginResult other = await sessions.LoginAsync("ada", "pw");
        var legacy = new LegacyManager(login);
        sessions.Node.RegisterService("legacy-sessions", sessions.Node.Spawn(() => legacy));
        var verifier = new SessionVerifier(sessions.Keys.PublicOnly(), new SessionVerifierOptions { ServiceName = "legacy-sessions" });
        verifier.Attach(sessions.Node);

        SessionVerdict known = await verifier.VerifyAsync(login.Token, "orders.place", CancellationToken.None);
        SessionVerdict refused = await verifier.VerifyAsync(other.Token, "orders.place", CancellationToken.None);

        Assert.True(known.IsAllowed, known.ErrorText);
        Assert.Equal("ada", known.Identity!.UserName);
        Assert.Equal(login.Identity.SessionId, known.Identity.SessionId);
        Assert.Equal(ErrorCodes.SessionRevoked, refused.ErrorCode); // the old manager's answer, typed
        Assert.Equal(2, legacy.Asked);
        Assert.Equal(1, verifier.CachedCount);
    }

    [Fact]
    public async Task VerifyAsync_Attached_TamperedTokens_AreRefusedUnauthenticated_ByTheManagersAnswer_AndNothingIsCached()
    {
        await using Sessions sessions = await Sessions.StartAsync(_store);
        await sessions.AdminAsync(new CreateUser("ada", "pw", ["orders.place"]));
        LoginResult login = await sessions.LoginAsync("ada", "pw");
        var verifier = new SessionVerifier(sessions.Keys.PublicOnly());
        verifier.Attach(sessions.Node);
        int dot = login.Token.IndexOf('.', StringComparison.Ordinal);
        byte[] payload = Base64Url.DecodeFromChars(login.Token.AsSpan(0, dot));
        byte[] signature = Base64Url.DecodeFromChars(login.Token.AsSpan(dot + 1));

        // Every bit of the signature, and the lowest bit of every payload byte: a flip that keeps the token well-formed
        // and the right in place goes to the manager (no local ECDSA while the verifier is attached), which refuses it.
        var flipped = new List<string>();
        for (int bit = 0; bit < signature.Length * 8; bit++)
        {
            signature[bit / 8] ^= (byte)(1 << (bit % 8));
            flipped.Add(Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(signature));
            signature[bit / 8] ^= (byte)(1 << (bit % 8));
        }

        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] ^= 1;
            flipped.Add(Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(signature));
            payload[i] ^= 1;
        }

        int askedManager = 0;
        foreach (string token in flipped)
        {
            if (!verifier.TryVerifyLocal(token, "orders.place", out SessionVerdict verdict))
            {
                askedManager++;
                verdict = await verifier.VerifyAsync(token, "orders.place", CancellationToken.None);
            }

            Assert.False(verdict.IsAllowed, "a tampered token must never be allowed");
            Assert.Equal(ErrorCodes.Unauthenticated, verdict.ErrorCode); // a flip in the expiry or the rights too: the signature decides first
        }

        SessionVerdict genuine = await verifier.VerifyAsync(login.Token, "orders.place", CancellationToken.None);

        Assert.True(askedManager >= signature.Length * 8, $"every signature flip goes to the manager; {askedManager} of {flipped.Count} did");
        Assert.True(genuine.IsAllowed, genuine.ErrorText);
        Assert.Equal(1, verifier.CachedCount); // only the genuine token
    }

    [Fact]
    public async Task Cache_IsBounded_AndTokensLeftOutAreVerifiedAgain()
    {
        await using Sessions sessions = await Sessions.StartAsync(_store);
        await sessions.AdminAsync(new CreateUser("ada", "pw", ["orders.place"]));
        var verifier = new SessionVerifier(sessions.Keys.PublicOnly(), new SessionVerifierOptions { CacheCapacity = 3 });
        verifier.Attach(sessions.Node);
        var tokens = new List<string>();
        for (int i = 0; i < 10; i++)
        {
            tokens.Add((await sessions.LoginAsync("ada", "pw")).Token);
        }

        foreach (string token in tokens)
        {
            Assert.True((await verifier.VerifyAsync(token, "orders.place", CancellationToken.None)).IsAllowed);
            Assert.InRange(verifier.CachedCount, 1, 3);
        }

        foreach (string token in tokens)
        {
            Assert.True((await verifier.VerifyAsync(token, "orders.place", CancellationToken.None)).IsAllowed);
        }
    }

    [Fact]
    public async Task TryVerifyLocal_CachedToken_AllocatesNothing()
    {
        await using Sessions sessions = await Sessions.StartAsync(_store);
        await sessions.AdminAsync(new CreateUser("ada", "pw", ["a", "b", "orders.place"]));
        LoginResult login = await sessions.LoginAsync("ada", "pw");
        Assert.True((await sessions.Verifier.VerifyAsync(login.Token, "orders.place", CancellationToken.None)).IsAllowed);
        SessionVerifier verifier = sessions.Verifier;
        string token = login.Token;
        for (int i = 0; i < 1000; i++)
        {
            verifier.TryVerifyLocal(token, "orders.place", out _); // warm up (tiered JIT)
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        int allowed = 0;
        for (int i = 0; i < 100_000; i++)
        {
            if (verifier.TryVerifyLocal(token, "orders.place", out SessionVerdict verdict) && verdict.IsAllowed)
            {
                allowed++;
            }
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(100_000, allowed);
        // Nothing per call: one allocation per call would be at least 100,000 x 24 bytes. A few bytes once (the runtime
        // swapping in the optimised code of the loop) are not the verifier's.
        Assert.True(allocated < 1_000, $"{allocated} bytes allocated by 100,000 cached verifications");
    }

    [Fact]
    public async Task CachedSession_AfterItsExpiry_IsRefusedSessionExpired()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using Sessions sessions = await Sessions.StartAsync(_store, o => o with { SessionLifetime = TimeSpan.FromMinutes(10) });
        await sessions.AdminAsync(new CreateUser("ada", "pw", ["orders.place"]));
        LoginResult login = await sessions.LoginAsync("ada", "pw");
        var verifier = new SessionVerifier(sessions.Keys.PublicOnly(), new SessionVerifierOptions { TimeProvider = clock });
        verifier.Attach(sessions.Node);
        Assert.True((await verifier.VerifyAsync(login.Token, "orders.place", CancellationToken.None)).IsAllowed);

        clock.Advance(TimeSpan.FromMinutes(11));

        AssertRefused(verifier, login.Token, "orders.place", ErrorCodes.SessionExpired);
        AssertRefused(verifier, login.Token, "orders.place", ErrorCodes.SessionExpired); // also once it left the cache
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Logout_ReachesEveryVerifierOfTheNode_WithinOneSecond(int round)
    {
        _ = round;
        await using Sessions sessions = await Sessions.StartAsync(_store, o => o with { RevocationPollInterval = Timeout.InfiniteTimeSpan });
        await sessions.AdminAsync(new CreateUser("ada", "pw", ["orders.place"]));
        LoginResult login = await sessions.LoginAsync("ada", "pw");
        var second = new SessionVerifier(sessions.Keys.PublicOnly());
        second.Attach(sessions.Node);
        Assert.True((await sessions.Verifier.VerifyAsync(login.Token, "orders.place", CancellationToken.None)).IsAllowed);
        Assert.True((await second.VerifyAsync(login.Token, "orders.place", CancellationToken.None)).IsAllowed);

        Assert.True(await sessions.Node.Request("sessions", new Logout(login.Token)));
        await Eventually.Until(
            () => Task.FromResult(Refused(sessions.Verifier) && Refused(second)),
            "the logout to reach both verifiers' caches",
            TimeSpan.FromSeconds(1)); // the claim: within 1 s of the logout's answer

        bool Refused(SessionVerifier v) => v.TryVerifyLocal(login.Token, "orders.place", out SessionVerdict verdict) && verdict.ErrorCode == ErrorCodes.SessionRevoked;
    }

    [Fact]
    public async Task DisableUser_InTheStoreAlone_IsPublishedByThePoll_AndRevokesCachedSessions()
    {
        await using Sessions sessions = await Sessions.StartAsync(_store, o => o with { RevocationPollInterval = TimeSpan.FromMilliseconds(100) });
        await sessions.AdminAsync(new CreateUser("ada", "pw", ["orders.place"]));
        LoginResult login = await sessions.LoginAsync("ada", "pw");
        Assert.True((await sessions.Verifier.VerifyAsync(login.Token, "orders.place", CancellationToken.None)).IsAllowed);

        await using (UserStore cli = await UserStore.OpenSqliteAsync(_store.FilePath)) // as `tether users disable` does
        {
            await cli.DisableAsync("ada");
        }

        await Eventually.Until(
            () => Task.FromResult(sessions.Verifier.TryVerifyLocal(login.Token, "orders.place", out SessionVerdict v) && v.ErrorCode == ErrorCodes.SessionRevoked),
            "the poll to publish the revocation made in the store",
            TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task KeyRotation_TokensOfThePreviousKeyStayValid_NewOnesUseTheNewKey()
    {
        SessionKeys oldKeys = SessionKeys.Generate();
        SessionKeys newKeys = SessionKeys.FromPrivateKeyPem(SessionKeys.Generate().ExportPrivateKeyPem()).WithPublicKey(oldKeys.ExportPublicKeyPem());
        string oldToken;
        await using (Sessions before = await Sessions.StartAsync(_store, keys: oldKeys))
        {
            await before.AdminAsync(new CreateUser("ada", "pw", ["orders.place"]));
            oldToken = (await before.LoginAsync("ada", "pw")).Token;
        }

        await using Sessions after = await Sessions.StartAsync(new ReusedSqlite(_store), keys: newKeys);
        string newToken = (await after.LoginAsync("ada", "pw")).Token;
        var onlyNew = new SessionVerifier(SessionKeys.FromPublicKeyPem(newKeys.ExportPublicKeyPem()));

        Assert.Equal(2, newKeys.KeyIds.Count);
        Assert.True((await after.Verifier.VerifyAsync(oldToken, "orders.place", CancellationToken.None)).IsAllowed);
        Assert.True((await after.Verifier.VerifyAsync(newToken, "orders.place", CancellationToken.None)).IsAllowed);
        AssertRefused(onlyNew, oldToken, "orders.place", ErrorCodes.Unauthenticated);
        Assert.False(onlyNew.TryVerifyLocal(newToken, "orders.place", out _));
        Assert.Equal(newKeys.SigningKeyId, SessionKeys.FromPublicKeyPem(newKeys.ExportPublicKeyPem()).KeyIds.Single());
    }

    [Fact]
    public void Keys_FromFiles_AndBadPem_FailNamingWhat()
    {
        using var dir = new TempDir();
        SessionKeys generated = SessionKeys.Generate();
        File.WriteAllText(dir.File("key.pem"), generated.ExportPrivateKeyPem());
        File.WriteAllText(dir.File("bad.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");

        SessionKeys loaded = SessionKeys.FromPrivateKeyFile(dir.File("key.pem"));
        ArgumentException missing = Assert.Throws<ArgumentException>(() => SessionKeys.FromPrivateKeyFile(dir.File("none.pem")));
        ArgumentException bad = Assert.Throws<ArgumentException>(() => SessionKeys.FromPrivateKeyFile(dir.File("bad.pem")));
        ArgumentException publicOnly = Assert.Throws<ArgumentException>(() => SessionManagerOptionsWith(generated.PublicOnly()).Validate());

        Assert.Equal(generated.SigningKeyId, loaded.SigningKeyId);
        Assert.Contains("none.pem", missing.Message, StringComparison.Ordinal);
        Assert.Contains("bad.pem", bad.Message, StringComparison.Ordinal);
        Assert.Contains("signing key", publicOnly.Message, StringComparison.Ordinal);
    }

    private static SessionManagerOptions SessionManagerOptionsWith(SessionKeys keys) => new() { Keys = keys };

    /// <summary>A session manager of an earlier version: it answers VerifySession only (here: one known session, any other revoked).</summary>
    private sealed class LegacyManager(LoginResult known) : Target, ITarget<LegacyManager>
    {
        private readonly LoginResult _known = known;
        private int _asked;

        public int Asked => Volatile.Read(ref _asked);

        public static void Wire(Channels<LegacyManager> channels) => channels
            .Request<VerifySession, SessionIdentity>(static (self, m, _) =>
            {
                Interlocked.Increment(ref self._asked);
                return m.Token == self._known.Token
                    ? self._known.Identity
                    : throw new TetherException(ErrorCodes.SessionRevoked, "revoked (legacy manager)");
            });
    }

    /// <summary>The same SQLite file again, for a second manager (not deleted by it).</summary>
    private sealed class ReusedSqlite(SqliteKind inner) : StoreKind
    {
        public override string Name => inner.Name;

        public override SessionManagerOptions Configure(SessionManagerOptions options) => inner.Configure(options);

        public override Task<UserStore> OpenAsync(int schemaVersion) => inner.OpenAsync(schemaVersion);

        public override Task ExecuteAsync(string sql) => inner.ExecuteAsync(sql);

        public override void Dispose()
        {
        }
    }
}
