using System.Diagnostics;

namespace Tether.Nats.Tests;

public sealed class FailureTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    public sealed record Hello : IRequest<string>;

    public sealed record MakeCounter : IRequest<Address>;

    /// <summary>An instance made by a factory: answers with its owner's address.</summary>
    public sealed class Counter : Target, ITarget<Counter>
    {
        public static void Wire(Channels<Counter> channels)
            => channels.Request<Hello, string>(static (self, _, ctx) => $"owned by {ctx.Owner}");
    }

    /// <summary>Creates a counter through the factory service (wherever it runs) and keeps it.</summary>
    public sealed class Owner : Target, ITarget<Owner>
    {
        public static void Wire(Channels<Owner> channels)
            => channels.RequestAsync<MakeCounter, Address>(static async (self, _, ctx) => await ctx.Create("counter"));
    }

    private static async Task Until(Func<Task<bool>> condition, string phase)
    {
        long start = Stopwatch.GetTimestamp();
        while (!await condition())
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < s_wait, $"timed out waiting for: {phase}");
            await Task.Delay(20); // polling a condition with a deadline
        }
    }

    private static async Task<bool> IsGone(Node from, Address target)
    {
        try
        {
            await from.Request(target, new Hello(), TimeSpan.FromSeconds(5));
            return false;
        }
        catch (TetherException ex) when (ex.Code is ErrorCodes.NoSuchTarget or ErrorCodes.TargetEnded)
        {
            return true;
        }
    }

    [Fact]
    public async Task Factory_OnAnotherNode_CreatesATetheredInstanceThatEndsWithItsOwner()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        b.RegisterFactory("counter", _ => new Counter());
        await cluster.MeshedAsync();
        Address owner = a.Spawn(() => new Owner());

        Address counter = await a.Request(owner, new MakeCounter()).AsTask().WaitAsync(s_wait);

        Assert.Equal("beta", counter.Node);
        Assert.Equal($"owned by {owner}", await a.Request(counter, new Hello()).AsTask().WaitAsync(s_wait));
        a.End(owner);
        await Until(() => IsGone(a, counter), "the remote instance to end with its owner");
    }

    [Fact]
    public async Task OwnerNodeLoss_EndsInstancesItOwnedOnOtherNodes()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, BrokerProxy aProxy) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        (Node c, _) = await cluster.AddNodeAsync("gamma");
        b.RegisterFactory("counter", _ => new Counter());
        await cluster.MeshedAsync();
        Address owner = a.Spawn(() => new Owner());
        Address counter = await a.Request(owner, new MakeCounter()).AsTask().WaitAsync(s_wait);
        Assert.Equal(2, b.Statistics.Targets);

        long crashed = Stopwatch.GetTimestamp();
        await aProxy.VanishAsync();
        await Until(() => Task.FromResult(b.Statistics.Targets == 1), "beta to end the instance owned by the lost node");
        Assert.True(Stopwatch.GetElapsedTime(crashed) < TimeSpan.FromSeconds(3.5), "no tethered instance outlives its owner's node by more than the detection time");
        Assert.True(await IsGone(c, counter));
    }

    [Fact]
    public async Task BrokerRestart_NodesReconnectAndTrafficResumes()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        Address echo = new("beta", b.Spawn(() => new Echo()).Id);
        Assert.Equal("echo before from beta", await a.Request(echo, new Ask("before")).AsTask().WaitAsync(s_wait));

        cluster.Server.Kill();
        await cluster.Server.RestartAsync();

        await Until(async () =>
        {
            try
            {
                return await a.Request(echo, new Ask("after"), TimeSpan.FromSeconds(2)) == "echo after from beta";
            }
            catch (TetherException)
            {
                return false;
            }
        }, "traffic to resume after the broker restarted");
    }
}
