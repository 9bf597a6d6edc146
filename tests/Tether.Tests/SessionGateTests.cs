using System.Collections.Concurrent;
using Tether.Internal;
using Tether.Tests.TestSupport;

namespace Tether.Tests;

/// <summary>
/// The mailbox's check of protected input channels (<see cref="Channels{TSelf}.Requires"/>) with a verifier whose answers
/// the test decides. The real verifier (signatures, cache, the session manager) is tested in Tether.Sessions.Tests.
/// </summary>
public sealed class SessionGateTests
{
    [Fact]
    public async Task ProtectedRequest_WithoutSession_FailsUnauthenticated_HandlerNeverRuns()
    {
        var verifier = new ScriptedVerifier();
        await using Node node = Node.Create(new NodeOptions { Sessions = verifier });
        var desk = new Desk();
        Address target = node.Spawn(() => desk);

        TetherException error = await node.Request(target, new PlaceOrder(1)).FailsWith(ErrorCodes.Unauthenticated, "no session");

        Assert.Contains("orders.place", error.Message, StringComparison.Ordinal);
        Assert.Empty(desk.Placed);
        Assert.Equal(1, node.Statistics.SessionRefusals);
        Assert.Equal(0, verifier.LocalCalls); // nothing to verify
    }

    [Fact]
    public async Task ProtectedRequest_NoVerifierOnTheNode_FailsUnauthenticatedNamingTheOption()
    {
        await using Node node = Node.Create();
        Address target = node.Spawn(() => new Desk());

        TetherException error = await node.Request(target, new PlaceOrder(1), session: "ok:ada").FailsWith(ErrorCodes.Unauthenticated, "no verifier");

        Assert.Contains("NodeOptions.Sessions", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProtectedRequest_VerifiedLocally_RunsWithTheIdentity_AndNeverAsksFurther()
    {
        var verifier = new ScriptedVerifier();
        verifier.Cache("ok:ada", "orders.place");
        await using Node node = Node.Create(new NodeOptions { Sessions = verifier });
        Address target = node.Spawn(() => new Desk());

        string who = await node.Request(target, new PlaceOrder(3), session: "ok:ada").Within("a cached session");

        Assert.Equal("ada placed 3", who);
        Assert.Equal(0, verifier.RemoteCalls);
    }

    [Theory]
    [InlineData("forged", ErrorCodes.Unauthenticated)]
    [InlineData("expired", ErrorCodes.SessionExpired)]
    [InlineData("revoked", ErrorCodes.SessionRevoked)]
    [InlineData("ok:bob", ErrorCodes.Forbidden)]
    public async Task ProtectedRequest_RefusedLocally_FailsWithTheVerdictsCode(string token, string code)
    {
        var verifier = new ScriptedVerifier();
        verifier.Cache("ok:bob", "orders.read"); // valid, but without orders.place
        await using Node node = Node.Create(new NodeOptions { Sessions = verifier });
        var desk = new Desk();
        Address target = node.Spawn(() => desk);

        TetherException error = await node.Request(target, new PlaceOrder(1), session: token).FailsWith(code, $"token {token}");

        Assert.DoesNotContain(token, error.Message, StringComparison.Ordinal); // a refusal never echoes the token
        Assert.Empty(desk.Placed);
        Assert.Equal("pong", await node.Request(target, new Open()).Within("the target keeps serving"));
    }

    [Fact]
    public async Task ProtectedSend_Refused_IsDroppedAndCounted_NotDelivered()
    {
        var verifier = new ScriptedVerifier();
        await using Node node = Node.Create(new NodeOptions { Sessions = verifier });
        var desk = new Desk();
        Address target = node.Spawn(() => desk);

        node.Send(target, new Note("x"), session: "forged");
        node.Send(target, new Note("y"));

        Assert.Equal("pong", await node.Request(target, new Open()).Within("the target keeps serving after refusals"));
        Assert.Empty(desk.Notes);
        Assert.Equal(2, node.Statistics.SessionRefusals);
    }

    [Fact]
    public async Task VerifierThatThrows_RefusesUnauthenticated_TargetKeepsServing()
    {
        var verifier = new ScriptedVerifier { ThrowOn = "boom" };
        await using Node node = Node.Create(new NodeOptions { Sessions = verifier });
        Address target = node.Spawn(() => new Desk());

        await node.Request(target, new PlaceOrder(1), session: "boom").FailsWith(ErrorCodes.Unauthenticated, "a throwing verifier");

        Assert.Equal("pong", await node.Request(target, new Open()).Within("the target keeps serving"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task Parked_WhileVerifying_TargetServesOthers_ThenTheSendersMessagesRunInOrder(int round)
    {
        _ = round;
        var verifier = new ScriptedVerifier();
        TaskCompletionSource<SessionVerdict> answer = verifier.Hold("ok:ada");
        await using Node node = Node.Create(new NodeOptions { Sessions = verifier });
        var desk = new Desk();
        Address target = node.Spawn(() => desk);
        Address client = node.Spawn(() => new Client(target));

        // One sender (client): protected, open, protected, open. The first parks; the rest wait behind it.
        Task<string[]> sequence = node.Request(client, new RunSequence("ok:ada")).AsTask();
        await verifier.Asked("ok:ada").Within("the verifier is asked");

        // Another sender is not held up while the client's messages are parked.
        Assert.Equal("pong", await node.Request(target, new Open()).Within("another sender is served meanwhile"));
        Assert.Empty(desk.Placed);
        Assert.False(sequence.IsCompleted);

        answer.SetResult(SessionVerdict.Allow(Identity("ada", "orders.place")));

        string[] answers = await sequence.Within("the parked messages are delivered after verification");
        Assert.Equal(["ada placed 1", "pong", "ada placed 2", "pong"], answers);
        Assert.Equal([1, 2], desk.Placed);
        Assert.Equal(["client:open", "client:open"], desk.OpenLog.Where(e => e.StartsWith("client", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Parked_VerdictOnAnIdleTarget_RunsTheMessageOnTheVerdictsThread_OneDispatch(int round)
    {
        // The verdict's continuation runs inside SetResult (no RunContinuationsAsynchronously), on a plain pool thread.
        // The parked message must be handled there, before SetResult returns: the verdict takes the idle target's run
        // instead of posting a system message for which the target is scheduled again (a second dispatch).
        _ = round;
        var verifier = new HandOverVerifier();
        await using Node node = Node.Create(new NodeOptions { Sessions = verifier });
        var desk = new Gatekeeper(verifier);
        Address target = node.Spawn(() => desk);
        TargetCell cell = target.Cell!;

        ValueTask<string> parked = node.Request(target, new PlaceOrder(1), session: "ok:ada");
        await verifier.Asked.Task.Within("the verifier is asked");
        await Eventually.Until(() => cell.IsIdle, "the target goes idle with the message parked");

        (int verdictThread, string[] logRightAfter) = await Task.Run(() =>
        {
            int thread = Environment.CurrentManagedThreadId;
            verifier.Answer.SetResult(SessionVerdict.Allow(Identity("ada", "orders.place")));
            return (thread, desk.Log.ToArray());
        }).Within("the verdict is given");

        Assert.Equal("ada placed 1", await parked.Within("the parked request is answered"));
        Assert.Equal(["placed 1"], logRightAfter); // handled before SetResult returned
        Assert.Equal([verdictThread], desk.PlacedOn);
        Assert.Equal(1, cell.VerdictsRunHere);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Parked_TheVerifierIsAskedWithTheTargetsRunHidden_SoItsQuestionLeavesAtOnce_AndTheRunGoesOnAfter(int round)
    {
        // A question the verifier sends must not wait for the end of the target's run (a transport defers a run's frames
        // to its end): while VerifyAsync runs, no run is open on the thread; before and after, the target's run is.
        _ = round;
        var verifier = new ScriptedVerifier();
        await using Node node = Node.Create(new NodeOptions { Sessions = verifier });
        var desk = new Desk();
        Address target = node.Spawn(() => desk);
        TaskCompletionSource<SessionVerdict> answer = verifier.Hold("ok:ada");

        ValueTask<string> parked = node.Request(target, new PlaceOrder(4), session: "ok:ada");
        await verifier.Asked("ok:ada").Within("the verifier is asked");
        answer.SetResult(SessionVerdict.Allow(Identity("ada", "orders.place")));

        Assert.Equal("ada placed 4", await parked.Within("the parked request is answered"));
        Assert.Equal([true], verifier.RunOpenAtLocal);
        Assert.Equal([false], verifier.RunOpenAtAsk);
        Assert.Equal("pong", await node.Request(target, new Open()).Within("the target keeps serving"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Parked_VerdictWhileTheTargetRuns_WaitsForTheRunningHandler_OneHandlerAtATime(int round)
    {
        // The verdict arrives on the target's own thread, inside another of its handlers: the parked message must not
        // run nested in it; it runs after, from the mailbox.
        _ = round;
        var verifier = new HandOverVerifier();
        await using Node node = Node.Create(new NodeOptions { Sessions = verifier });
        var desk = new Gatekeeper(verifier);
        Address target = node.Spawn(() => desk);

        ValueTask<string> parked = node.Request(target, new PlaceOrder(2), session: "ok:ada");
        await verifier.Asked.Task.Within("the verifier is asked");
        node.Send(target, new GiveVerdict("ada"));

        Assert.Equal("ada placed 2", await parked.Within("the parked request is answered"));
        Assert.Equal(["verdict:start", "verdict:end", "placed 2"], desk.Log);
        Assert.Equal(0, target.Cell!.VerdictsRunHere);
    }

    [Fact]
    public async Task Parked_VerifierNeverAnswers_RefusedTimeoutAtTheNodesDeadline_LateVerdictIgnored_TargetKeepsServing()
    {
        // The verification's deadline is the node's DefaultRequestTimeout (0.3 s here, so that the run stays short); the
        // request itself may wait 30 s, so the timeout the requester sees is the verification's, not its own.
        var verifier = new HandOverVerifier();
        await using Node node = Node.Create(new NodeOptions { Sessions = verifier, DefaultRequestTimeout = TimeSpan.FromMilliseconds(300) });
        var desk = new Gatekeeper(verifier);
        Address target = node.Spawn(() => desk);

        ValueTask<string> parked = node.Request(target, new PlaceOrder(3), TimeSpan.FromSeconds(30), session: "ok:ada");
        TetherException error = await parked.FailsWith(ErrorCodes.Timeout, "the verification's deadline passes");
        Assert.Contains("not verified within 0.3 s", error.Message, StringComparison.Ordinal);

        verifier.Answer.SetResult(SessionVerdict.Allow(Identity("ada", "orders.place"))); // too late: nothing runs
        Assert.Equal("pong", await node.Request(target, new Open(), TimeSpan.FromSeconds(30)).Within("the target still serves"));
        Assert.Empty(desk.PlacedOn);
    }

    [Fact]
    public async Task Parked_VerificationRefused_EachProtectedMessageFails_OpenOnesStillRunInOrder()
    {
        var verifier = new ScriptedVerifier();
        TaskCompletionSource<SessionVerdict> answer = verifier.Hold("ok:eve");
        await using Node node = Node.Create(new NodeOptions { Sessions = verifier });
        var desk = new Desk();
        Address target = node.Spawn(() => desk);
        Address client = node.Spawn(() => new Client(target));

        Task<string[]> sequence = node.Request(client, new RunSequence("ok:eve")).AsTask();
        await verifier.Asked("ok:eve").Within("the verifier is asked");
        answer.SetResult(SessionVerdict.Refuse(ErrorCodes.SessionRevoked, "logged out"));

        string[] answers = await sequence.Within("the parked messages get their outcomes");
        Assert.Equal(["error session-revoked", "pong", "error session-revoked", "pong"], answers);
        Assert.Empty(desk.Placed);
    }

    [Fact]
    public async Task Parked_TargetEnds_ParkedRequestsFailTargetEnded()
    {
        var verifier = new ScriptedVerifier();
        TaskCompletionSource<SessionVerdict> answer = verifier.Hold("ok:ada");
        await using Node node = Node.Create(new NodeOptions { Sessions = verifier });
        Address target = node.Spawn(() => new Desk());

        ValueTask<string> parked = node.Request(target, new PlaceOrder(1), session: "ok:ada");
        await verifier.Asked("ok:ada").Within("the verifier is asked");
        node.End(target);
        answer.SetResult(SessionVerdict.Allow(Identity("ada", "orders.place")));

        await parked.FailsWith(ErrorCodes.TargetEnded, "a parked request of an ended target");
    }

    [Fact]
    public async Task Parked_VerifierAsksTheSameTargetFromOutside_IsNotHeldBehindTheMessageItVerifies()
    {
        // As a session manager's own protected channels are verified: the verifier's request goes to the very target
        // that parked the message, from the same sender (outside any target) but without that session.
        var node = Node.Create(new NodeOptions { Sessions = new AskingVerifier() });
        await using (node)
        {
            Address desk = node.Spawn(() => new Desk());
            AskingVerifier.Desk = desk;
            AskingVerifier.Node = node;

            Assert.Equal("ada placed 4", await node.Request(desk, new PlaceOrder(4), session: "ok:ada").Within("verification through the same target"));
        }
    }

    [Fact]
    public async Task Session_TravelsOnFromAHandler_ToAProtectedChannelOfAThirdTarget()
    {
        var verifier = new ScriptedVerifier();
        verifier.Cache("ok:ada", "orders.place");
        await using Node node = Node.Create(new NodeOptions { Sessions = verifier });
        Address desk = node.Spawn(() => new Desk());
        Address relay = node.Spawn(() => new Relay(desk));

        // The relay's channel is open; it requests the desk from its handler, which carries the caller's session on.
        Assert.Equal("ada placed 7", await node.Request(relay, new RelayOrder(7), session: "ok:ada").Within("the session travels on"));
        await node.Request(relay, new RelayOrder(8)).FailsWith(ErrorCodes.Unauthenticated, "no session to carry on");
    }

    [Fact]
    public async Task WithSession_ReplacesTheSessionAHandlerCarriesOn()
    {
        var verifier = new ScriptedVerifier();
        verifier.Cache("ok:ada", "orders.place");
        await using Node node = Node.Create(new NodeOptions { Sessions = verifier });
        Address desk = node.Spawn(() => new Desk());
        Address holder = node.Spawn(() => new TokenHolder(desk, "ok:ada"));

        Assert.Equal("ada placed 5", await node.Request(holder, new RelayOrder(5)).Within("the held token is used"));
    }

    [Fact]
    public void Requires_WithoutAChannelBefore_Throws()
    {
        var channels = (Channels<Desk>)Activator.CreateInstance(typeof(Channels<Desk>), nonPublic: true)!;
        Assert.Throws<InvalidOperationException>(() => channels.Requires("x"));
        channels.On<Note>(static (_, _, _) => { }).Requires("x");
        Assert.Throws<InvalidOperationException>(() => channels.Requires("y"));
    }

    private static SessionIdentity Identity(string user, params string[] rights)
        => new("s-" + user, "u-" + user, user, rights, DateTimeOffset.UtcNow.AddHours(1));

    private sealed record PlaceOrder(int Quantity) : IRequest<string>;

    private sealed record Open : IRequest<string>;

    private sealed record Note(string Text);

    private sealed record RunSequence(string Token) : IRequest<string[]>;

    private sealed record RelayOrder(int Quantity) : IRequest<string>;

    private sealed class Desk : Target, ITarget<Desk>
    {
        public ConcurrentQueue<int> Placed { get; } = new();

        public ConcurrentQueue<string> Notes { get; } = new();

        public ConcurrentQueue<string> OpenLog { get; } = new();

        public static void Wire(Channels<Desk> channels) => channels
            .Request<PlaceOrder, string>(static (self, m, ctx) =>
            {
                self.Placed.Enqueue(m.Quantity);
                return $"{ctx.Session!.UserName} placed {m.Quantity}";
            }).Requires("orders.place")
            .On<Note>(static (self, m, _) => self.Notes.Enqueue(m.Text)).Requires("orders.place")
            .Request<Open, string>(static (self, _, ctx) =>
            {
                self.OpenLog.Enqueue(ctx.Sender.IsNone ? "outside:open" : "client:open");
                return "pong";
            });
    }

    private sealed class Client(Address desk) : Target, ITarget<Client>
    {
        private readonly Address _desk = desk;

        public static void Wire(Channels<Client> channels) => channels
            .RequestAsync<RunSequence, string[]>(static async (self, m, ctx) =>
            {
                Context as_ = ctx.WithSession(m.Token);
                ValueTask<string>[] calls =
                [
                    as_.Request(self._desk, new PlaceOrder(1)),
                    as_.Request(self._desk, new Open()),
                    as_.Request(self._desk, new PlaceOrder(2)),
                    as_.Request(self._desk, new Open()),
                ];
                var answers = new string[calls.Length];
                for (int i = 0; i < calls.Length; i++)
                {
                    try
                    {
                        answers[i] = await calls[i];
                    }
                    catch (TetherException ex)
                    {
                        answers[i] = "error " + ex.Code;
                    }
                }

                return answers;
            });
    }

    private sealed class Relay(Address desk) : Target, ITarget<Relay>
    {
        private readonly Address _desk = desk;

        public static void Wire(Channels<Relay> channels) => channels
            .RequestAsync<RelayOrder, string>(static async (self, m, ctx) => await ctx.Request(self._desk, new PlaceOrder(m.Quantity)));
    }

    private sealed class TokenHolder(Address desk, string token) : Target, ITarget<TokenHolder>
    {
        private readonly Address _desk = desk;
        private readonly string _token = token;

        public static void Wire(Channels<TokenHolder> channels) => channels
            .RequestAsync<RelayOrder, string>(static async (self, m, ctx) => await ctx.WithSession(self._token).Request(self._desk, new PlaceOrder(m.Quantity)));
    }

    private sealed record GiveVerdict(string User);

    /// <summary>A protected desk that can also give the held verdict from a handler of its own (an open channel).</summary>
    private sealed class Gatekeeper(HandOverVerifier verifier) : Target, ITarget<Gatekeeper>
    {
        private readonly HandOverVerifier _verifier = verifier;

        public ConcurrentQueue<string> Log { get; } = new();

        public ConcurrentQueue<int> PlacedOn { get; } = new();

        public static void Wire(Channels<Gatekeeper> channels) => channels
            .Request<PlaceOrder, string>(static (self, m, ctx) =>
            {
                self.PlacedOn.Enqueue(Environment.CurrentManagedThreadId);
                self.Log.Enqueue($"placed {m.Quantity}");
                return $"{ctx.Session!.UserName} placed {m.Quantity}";
            }).Requires("orders.place")
            .On<GiveVerdict>(static (self, m, _) =>
            {
                self.Log.Enqueue("verdict:start");
                self._verifier.Answer.SetResult(SessionVerdict.Allow(Identity(m.User, "orders.place")));
                self.Log.Enqueue("verdict:end");
            })
            .Request<Open, string>(static (_, _, _) => "pong");
    }

    /// <summary>
    /// Asks every token (nothing is known locally) and holds one verdict, which the test gives: its continuations run
    /// synchronously, on the thread that gives it.
    /// </summary>
    private sealed class HandOverVerifier : ISessionVerifier
    {
        public TaskCompletionSource<SessionVerdict> Answer { get; } = new(TaskCreationOptions.None);

        public TaskCompletionSource Asked { get; } = Waits.NewSignal();

        public bool TryVerifyLocal(string token, string right, out SessionVerdict verdict)
        {
            verdict = default;
            return false;
        }

        public ValueTask<SessionVerdict> VerifyAsync(string token, string right, CancellationToken cancellationToken)
        {
            Asked.TrySetResult();
            return new ValueTask<SessionVerdict>(Answer.Task);
        }
    }

    /// <summary>A verifier that asks the protected target itself (an open channel) before it allows.</summary>
    private sealed class AskingVerifier : ISessionVerifier
    {
        public static Address Desk { get; set; }

        public static Node? Node { get; set; }

        public bool TryVerifyLocal(string token, string right, out SessionVerdict verdict)
        {
            verdict = default;
            return false;
        }

        public async ValueTask<SessionVerdict> VerifyAsync(string token, string right, CancellationToken cancellationToken)
        {
            string answer = await Node!.Request(Desk, new Open(), TimeSpan.FromSeconds(5));
            return answer == "pong" ? SessionVerdict.Allow(Identity(token[3..], right)) : SessionVerdict.Refuse(ErrorCodes.Unauthenticated, "no");
        }
    }

    /// <summary>
    /// A verifier whose answers the test decides: "forged"/"expired"/"revoked" are refused locally, cached tokens are
    /// allowed locally when they hold the right (else forbidden), held tokens wait for the test's verdict.
    /// </summary>
    private sealed class ScriptedVerifier : ISessionVerifier
    {
        private readonly ConcurrentDictionary<string, string[]> _cached = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, TaskCompletionSource<SessionVerdict>> _held = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _asked = new(StringComparer.Ordinal);
        private int _localCalls;
        private int _remoteCalls;

        public string? ThrowOn { get; init; }

        public int LocalCalls => Volatile.Read(ref _localCalls);

        public int RemoteCalls => Volatile.Read(ref _remoteCalls);

        public void Cache(string token, params string[] rights) => _cached[token] = rights;

        /// <summary>Whether a run was open on the thread at each call of TryVerifyLocal (the target's run), and of VerifyAsync.</summary>
        public ConcurrentQueue<bool> RunOpenAtLocal { get; } = new();

        public ConcurrentQueue<bool> RunOpenAtAsk { get; } = new();

        public TaskCompletionSource<SessionVerdict> Hold(string token)
            => _held.GetOrAdd(token, static _ => new TaskCompletionSource<SessionVerdict>(TaskCreationOptions.RunContinuationsAsynchronously));

        public Task Asked(string token) => _asked.GetOrAdd(token, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public bool TryVerifyLocal(string token, string right, out SessionVerdict verdict)
        {
            Interlocked.Increment(ref _localCalls);
            RunOpenAtLocal.Enqueue(Tether.Transport.RunScope.IsOpen);
            if (token == ThrowOn)
            {
                throw new InvalidOperationException("verifier broke");
            }

            verdict = token switch
            {
                "forged" => SessionVerdict.Refuse(ErrorCodes.Unauthenticated, "bad signature"),
                "expired" => SessionVerdict.Refuse(ErrorCodes.SessionExpired, "its time is over"),
                "revoked" => SessionVerdict.Refuse(ErrorCodes.SessionRevoked, "logged out"),
                _ => default,
            };
            if (verdict.ErrorCode is not null)
            {
                return true;
            }

            if (_cached.TryGetValue(token, out string[]? rights))
            {
                string user = token[3..];
                verdict = rights.Contains(right)
                    ? SessionVerdict.Allow(Identity(user, rights))
                    : SessionVerdict.Refuse(ErrorCodes.Forbidden, $"{user} lacks {right}");
                return true;
            }

            return false;
        }

        public ValueTask<SessionVerdict> VerifyAsync(string token, string right, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _remoteCalls);
            RunOpenAtAsk.Enqueue(Tether.Transport.RunScope.IsOpen);
            _asked.GetOrAdd(token, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            return new ValueTask<SessionVerdict>(Hold(token).Task);
        }
    }
}
