using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Tether.Tests.TestSupport;

namespace Tether.Tests;

/// <summary>Factories create owned instances; tethers end them when the link to the owner breaks.</summary>
public sealed class FactoryAndTetherTests
{
    private const string Service = "members";

    [Fact]
    public async Task Create_ByOwner_OwnerGetsAddressAndInstanceKnowsItsOwner()
    {
        var tracker = new Tracker();
        await using Node node = CreateNode(tracker);
        Address owner = node.Spawn(() => new Member(tracker, null));

        Address instance = await node.Request(owner, new MakeChild(Service, Argument: "hello")).Within("the owner creates an instance");
        OwnerInfo info = await node.Request(instance, new WhoOwns()).Within("the instance names its owner");

        Assert.Equal(owner, info.TargetOwner);
        Assert.Equal(owner, info.ContextOwner);
        Assert.Equal(instance, info.Self);
        Assert.Equal("hello", info.Argument);
        Assert.Equal(instance.Node, node.Name);
    }

    [Fact]
    public async Task Create_FromOutside_InstanceHasNoOwner()
    {
        var tracker = new Tracker();
        await using Node node = CreateNode(tracker);

        Address instance = await node.Create(Service, 42).Within("the node creates an instance");
        OwnerInfo info = await node.Request(instance, new WhoOwns()).Within("the instance names its owner");

        Assert.True(info.TargetOwner.IsNone);
        Assert.True(info.ContextOwner.IsNone);
        Assert.Equal(42, info.Argument);
    }

    [Fact]
    public async Task Create_UnknownService_FailsNoSuchService()
    {
        var tracker = new Tracker();
        await using Node node = CreateNode(tracker);
        Address owner = node.Spawn(() => new Member(tracker, null));

        await node.Create("nobody").FailsWith(ErrorCodes.NoSuchService, "node.Create of an unknown service");
        await node.Request(owner, new MakeChild("nobody")).FailsWith(ErrorCodes.NoSuchService, "ctx.Create of an unknown service");
    }

    [Fact]
    public async Task RegisterFactory_SameNameTwice_ThrowsAndFirstKeepsWorking()
    {
        var tracker = new Tracker();
        await using Node node = CreateNode(tracker);
        int targets = node.Statistics.Targets;

        Assert.Throws<InvalidOperationException>(() => node.RegisterFactory(Service, arg => new Member(tracker, "second")));

        Address instance = await node.Create(Service, "first").Within("the first factory still creates");
        Assert.Equal("first", (await node.Request(instance, new WhoOwns()).Within("the instance answers")).Argument);
        await Eventually.Until(() => node.Statistics.Targets == targets + 1, "the refused factory's target is gone");
    }

    [Fact]
    public async Task End_ByOwner_EndsInstanceFreesAddressAndTellsOwner()
    {
        var tracker = new Tracker();
        await using Node node = CreateNode(tracker);
        Address owner = node.Spawn(() => new Member(tracker, null));
        Address instance = await node.Request(owner, new MakeChild(Service)).Within("the owner creates an instance");

        await node.Request(owner, new EndIt(instance)).Within("the owner ends its instance");

        Assert.Equal("ended by its owner", await tracker.EndOf(instance).Within("the instance ends"));
        await node.Request(instance, new Ping(1)).FailsWith(ErrorCodes.NoSuchTarget, "a request to the ended instance");
        TargetEnded notice = await tracker.NoticeOf(owner, instance).Within("the owner receives TargetEnded");
        Assert.Equal("ended by its owner", notice.Reason);
    }

    [Fact]
    public async Task End_ByNonOwner_IsRefusedAndLogged()
    {
        var tracker = new Tracker();
        var logs = new RecordingLoggerProvider();
        await using Node node = CreateNode(tracker, logs);
        Address owner = node.Spawn(() => new Member(tracker, null));
        Address stranger = node.Spawn(() => new Member(tracker, null));
        Address instance = await node.Request(owner, new MakeChild(Service)).Within("the owner creates an instance");

        await node.Request(stranger, new EndIt(instance)).Within("a stranger tries to end the instance");

        // The refused end signal was queued before this ping, so the answer proves it was handled and refused.
        Assert.Equal(5, await node.Request(instance, new Ping(5)).Within("the instance still answers"));
        Assert.False(tracker.EndOf(instance).IsCompleted);
        LogEntry refused = Assert.Single(logs.Entries, e => e.EventId.Id == 3);
        Assert.Equal(LogLevel.Warning, refused.Level);
        Assert.Contains(instance.ToString(), refused.Message, StringComparison.Ordinal);
        Assert.Contains(stranger.ToString(), refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithOwner_OwnerEnds_InstanceEndsAndItsAddressIsFreed()
    {
        var tracker = new Tracker();
        await using Node node = CreateNode(tracker);
        Address owner = node.Spawn(() => new Member(tracker, null));
        Address instance = await node.Request(owner, new MakeChild(Service, Tether: TetherPolicy.WithOwner)).Within("the owner creates an instance");

        node.End(owner);

        Assert.Equal("owner ended", await tracker.EndOf(instance).Within("the instance ends with its owner"));
        await node.Request(instance, new Ping(1)).FailsWith(ErrorCodes.NoSuchTarget, "a request to the ended instance");
    }

    [Fact]
    public async Task Detached_OwnerEnds_InstanceSurvives()
    {
        var tracker = new Tracker();
        await using Node node = CreateNode(tracker);
        Address owner = node.Spawn(() => new Member(tracker, null));
        Address tethered = await node.Request(owner, new MakeChild(Service, Tether: TetherPolicy.WithOwner)).Within("a tethered instance");
        Address detached = await node.Request(owner, new MakeChild(Service, Tether: TetherPolicy.Detached)).Within("a detached instance");

        node.End(owner);
        await tracker.EndOf(owner).Within("the owner ends");
        await tracker.EndOf(tethered).Within("the tethered sibling ends: the owner's end has been handed out");

        Assert.Equal(9, await node.Request(detached, new Ping(9)).Within("the detached instance still answers"));
        Assert.False(tracker.EndOf(detached).IsCompleted);
        Assert.Equal(owner, (await node.Request(detached, new WhoOwns()).Within("it still names its (ended) owner")).TargetOwner);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task End_OwnerOfThreeLevels_EndsAllRecursivelyAndFreesEveryAddress(bool viaFactory)
    {
        var tracker = new Tracker();
        await using Node node = CreateNode(tracker);
        int baseline = node.Statistics.Targets;
        Address root = node.Spawn(() => new Member(tracker, null));
        var levels = new List<Address>();
        Address parent = root;
        for (int level = 1; level <= 3; level++)
        {
            IRequest<Address> make = viaFactory ? new MakeChild(Service) : new SpawnChild();
            parent = await node.Request(parent, make).Within($"level {level} is created");
            levels.Add(parent);
        }

        Assert.Equal(baseline + 4, node.Statistics.Targets);
        node.End(root);

        foreach (Address instance in levels)
        {
            Assert.Equal("owner ended", await tracker.EndOf(instance).Within($"{instance} ends"));
            await node.Request(instance, new Ping(1)).FailsWith(ErrorCodes.NoSuchTarget, $"a request to the ended {instance}");
        }

        Assert.Equal(baseline, node.Statistics.Targets);
    }

    [Fact]
    public async Task Leased_OwnerRenewsThenStops_InstanceLivesWhileRenewedThenEnds()
    {
        var time = new ManualTimeProvider();
        var tracker = new Tracker();
        await using Node node = CreateNode(tracker, time: time);
        TimeSpan lease = TimeSpan.FromMilliseconds(200);
        Address owner = node.Spawn(() => new Member(tracker, null));
        Address instance = await node.Request(owner, new MakeChild(Service, Tether: TetherPolicy.Leased(lease))).Within("a leased instance");

        // Renew every 150 ms for 1.5 s (7.5 leases): the instance must stay alive throughout.
        for (int i = 1; i <= 10; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(150));
            await node.Request(owner, new RenewIt(instance)).Within($"renewal {i}");
            Assert.True(await IsAlive(node, instance), $"the instance ended although renewed (renewal {i})");
        }

        // Now stop renewing. The last renewal was at 1,500 ms, so the lease runs out at 1,700 ms, not before.
        TimeSpan elapsed = TimeSpan.FromMilliseconds(1_500);
        while (await IsAlive(node, instance))
        {
            Assert.True(elapsed < TimeSpan.FromMilliseconds(2_000), "the lease did not expire 300 ms after the last renewal");
            time.Advance(TimeSpan.FromMilliseconds(25));
            elapsed += TimeSpan.FromMilliseconds(25);
        }

        Assert.True(elapsed >= TimeSpan.FromMilliseconds(1_700), $"the lease expired at {elapsed.TotalMilliseconds} ms, before it ran out");
        Assert.Equal("lease expired", await tracker.EndOf(instance).Within("the instance ends"));
        Assert.Equal("lease expired", (await tracker.NoticeOf(owner, instance).Within("the owner is told")).Reason);
    }

    [Fact]
    public async Task Leased_RenewedByNonOwner_StillExpires()
    {
        var time = new ManualTimeProvider();
        var tracker = new Tracker();
        await using Node node = CreateNode(tracker, time: time);
        Address owner = node.Spawn(() => new Member(tracker, null));
        Address stranger = node.Spawn(() => new Member(tracker, null));
        Address instance = await node.Request(owner, new MakeChild(Service, Tether: TetherPolicy.Leased(TimeSpan.FromMilliseconds(200))))
            .Within("a leased instance");

        for (int i = 0; i < 20 && await IsAlive(node, instance); i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            await node.Request(stranger, new RenewIt(instance)).Within("the stranger renews");
        }

        Assert.Equal("lease expired", await tracker.EndOf(instance).Within("the instance ends despite the stranger's renewals"));
    }

    [Fact]
    public async Task Leased_OnRealClockWithoutRenewal_EndsSoonAfterTheLease()
    {
        var tracker = new Tracker();
        await using Node node = CreateNode(tracker);
        Address owner = node.Spawn(() => new Member(tracker, null));
        Address instance = await node.Request(owner, new MakeChild(Service, Tether: TetherPolicy.Leased(TimeSpan.FromMilliseconds(200))))
            .Within("a leased instance");

        Assert.Equal("lease expired", await tracker.EndOf(instance).Within("the unrenewed lease expires", TimeSpan.FromSeconds(10)));
        Assert.Equal("lease expired", (await tracker.NoticeOf(owner, instance).Within("the owner is told")).Reason);
        await node.Request(instance, new Ping(1)).FailsWith(ErrorCodes.NoSuchTarget, "a request to the expired instance");
    }

    [Fact]
    public async Task Leased_OwnerEnds_InstanceEnds()
    {
        var time = new ManualTimeProvider();
        var tracker = new Tracker();
        await using Node node = CreateNode(tracker, time: time);
        Address owner = node.Spawn(() => new Member(tracker, null));
        Address instance = await node.Request(owner, new MakeChild(Service, Tether: TetherPolicy.Leased(TimeSpan.FromHours(1))))
            .Within("a leased instance");

        node.End(owner);

        Assert.Equal("owner ended", await tracker.EndOf(instance).Within("the leased instance ends with its owner"));
    }

    [Fact]
    public async Task TargetEnded_OwnerWithoutChannel_IsNotADeadLetter()
    {
        var tracker = new Tracker();
        await using Node node = CreateNode(tracker);
        Address owner = node.Spawn(() => new QuietOwner());
        Address instance = await node.Request(owner, new MakeChild(Service)).Within("the quiet owner creates an instance");

        await node.Request(owner, new EndIt(instance)).Within("the quiet owner ends it");
        await tracker.EndOf(instance).Within("the instance ends");
        await node.Request(owner, new EndIt(Address.None)).Within("a round trip to the owner after the end");

        Assert.Equal(0, node.Statistics.DeadLetters);
    }

    [Fact]
    public async Task EndSelf_Instance_EndsAndOwnerIsTold()
    {
        var tracker = new Tracker();
        await using Node node = CreateNode(tracker);
        Address owner = node.Spawn(() => new Member(tracker, null));
        Address instance = await node.Request(owner, new MakeChild(Service)).Within("an instance");

        node.Send(instance, new Quit());

        Assert.Equal("ended itself", await tracker.EndOf(instance).Within("the instance ends itself"));
        Assert.Equal("ended itself", (await tracker.NoticeOf(owner, instance).Within("the owner is told")).Reason);
    }

    [Fact]
    public async Task Spawn_FromTargetWithDetachedOption_SurvivesItsSpawner()
    {
        var tracker = new Tracker();
        await using Node node = CreateNode(tracker);
        Address spawner = node.Spawn(() => new Member(tracker, null));
        Address tethered = await node.Request(spawner, new SpawnChild()).Within("a tethered child");
        Address detached = await node.Request(spawner, new SpawnChild(TetherPolicy.Detached)).Within("a detached child");

        node.End(spawner);
        await tracker.EndOf(tethered).Within("the tethered child ends with its spawner");

        Assert.Equal(3, await node.Request(detached, new Ping(3)).Within("the detached child still answers"));
        Assert.Equal(spawner, (await node.Request(detached, new WhoOwns()).Within("it names its spawner")).ContextOwner);
    }

    private static Node CreateNode(Tracker tracker, RecordingLoggerProvider? logs = null, ManualTimeProvider? time = null)
    {
        Node node = Node.Create(new NodeOptions
        {
            LoggerFactory = logs?.CreateFactory() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
            TimeProvider = time ?? TimeProvider.System,
        });
        node.RegisterFactory(Service, arg => new Member(tracker, arg));
        return node;
    }

    private static async Task<bool> IsAlive(Node node, Address instance)
    {
        try
        {
            await node.Request(instance, new Ping(0)).Within($"a liveness ping to {instance}");
            return true;
        }
        catch (TetherException ex) when (ex.Code is ErrorCodes.NoSuchTarget or ErrorCodes.TargetEnded)
        {
            return false;
        }
    }

    private sealed record OwnerInfo(Address Self, Address TargetOwner, Address ContextOwner, object? Argument);

    private sealed record WhoOwns : IRequest<OwnerInfo>;

    private sealed record MakeChild(string Service, object? Argument = null, TetherPolicy? Tether = null) : IRequest<Address>;

    private sealed record SpawnChild(TetherPolicy? Tether = null) : IRequest<Address>;

    private sealed record EndIt(Address Instance) : IRequest<bool>;

    private sealed record RenewIt(Address Instance) : IRequest<bool>;

    private sealed record Quit;

    private sealed class Tracker
    {
        private readonly ConcurrentDictionary<Address, TaskCompletionSource<string>> _ended = new();
        private readonly ConcurrentDictionary<(Address, Address), TaskCompletionSource<TargetEnded>> _notices = new();

        public Task<string> EndOf(Address target) => _ended.GetOrAdd(target, static _ => Waits.NewSignal<string>()).Task;

        public Task<TargetEnded> NoticeOf(Address owner, Address instance)
            => _notices.GetOrAdd((owner, instance), static _ => Waits.NewSignal<TargetEnded>()).Task;

        public void Ended(Address target, string reason)
            => _ended.GetOrAdd(target, static _ => Waits.NewSignal<string>()).TrySetResult(reason);

        public void Noticed(Address owner, TargetEnded notice)
            => _notices.GetOrAdd((owner, notice.Instance), static _ => Waits.NewSignal<TargetEnded>()).TrySetResult(notice);
    }

    /// <summary>Both owner and instance: creates, spawns, ends and renews others, and reports its own end.</summary>
    private sealed class Member(Tracker tracker, object? argument) : Target, ITarget<Member>
    {
        private readonly Tracker _tracker = tracker;
        private readonly object? _argument = argument;

        public static void Wire(Channels<Member> channels) => channels
            .Request<Ping, int>(static (self, m, ctx) => m.N)
            .Request<WhoOwns, OwnerInfo>(static (self, m, ctx) => new OwnerInfo(ctx.Self, self.Owner, ctx.Owner, self._argument))
            .RequestAsync<MakeChild, Address>(static async (self, m, ctx) => await ctx.Create(m.Service, m.Argument, m.Tether))
            .Request<SpawnChild, Address>(static (self, m, ctx) => ctx.Spawn(
                () => new Member(self._tracker, null),
                m.Tether is null ? null : new SpawnOptions { Tether = m.Tether }))
            .Request<EndIt, bool>(static (self, m, ctx) =>
            {
                ctx.End(m.Instance);
                return true;
            })
            .Request<RenewIt, bool>(static (self, m, ctx) =>
            {
                ctx.Renew(m.Instance);
                return true;
            })
            .On<Quit>(static (self, m, ctx) => ctx.EndSelf())
            .On<TargetEnded>(static (self, m, ctx) => self._tracker.Noticed(ctx.Self, m));

        protected internal override void OnEnded(Context context, string reason) => _tracker.Ended(context.Self, reason);
    }

    /// <summary>An owner that does not wire TargetEnded.</summary>
    private sealed class QuietOwner : Target, ITarget<QuietOwner>
    {
        public static void Wire(Channels<QuietOwner> channels) => channels
            .RequestAsync<MakeChild, Address>(static async (self, m, ctx) => await ctx.Create(m.Service, m.Argument, m.Tether))
            .Request<EndIt, bool>(static (self, m, ctx) =>
            {
                if (!m.Instance.IsNone)
                {
                    ctx.End(m.Instance);
                }

                return true;
            });
    }
}
