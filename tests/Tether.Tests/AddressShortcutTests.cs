using Tether.Testing;

namespace Tether.Tests;

/// <summary>
/// An address made by a node carries a shortcut to its target's mailbox. Only that node takes it: another node of the
/// same process goes through its transport (or fails without one), and a later incarnation of a node with the same name
/// never reaches a new target through an old address.
/// </summary>
public sealed class AddressShortcutTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Request_ToAnotherNodesTargetInTheSameProcess_WithoutATransport_FailsInsteadOfTakingTheShortcut()
    {
        await using Node a = Node.Create(new NodeOptions { Name = "alpha" });
        await using Node b = Node.Create(new NodeOptions { Name = "beta" });
        Address onB = b.Spawn(() => new MultiNodeContractTests.Echo());

        TetherException error = await Assert.ThrowsAsync<TetherException>(() => a.Request(onB, new MultiNodeContractTests.Ask("x")).AsTask().WaitAsync(s_wait));

        Assert.Equal(ErrorCodes.NoSuchTarget, error.Code);
        Assert.Contains("node beta is not this node (alpha)", error.Message, StringComparison.Ordinal);
        Assert.Equal("echo x from beta", await b.Request(onB, new MultiNodeContractTests.Ask("x")).AsTask().WaitAsync(s_wait));
    }

    [Fact]
    public async Task Request_WithAnAddressOfAnEarlierIncarnation_NeverReachesTheNewTargetOfTheSameId()
    {
        Node first = Node.Create(new NodeOptions { Name = new string("alpha".AsSpan()) });
        Address old = first.Spawn(() => new MultiNodeContractTests.Echo());
        await first.StopAsync();
        await using Node second = Node.Create(new NodeOptions { Name = new string("alpha".AsSpan()) }); // an equal name, another string
        Address fresh = second.Spawn(() => new MultiNodeContractTests.Echo());
        Assert.Equal(old, fresh); // same node name, same id: equal addresses, different incarnations

        TetherException error = await Assert.ThrowsAsync<TetherException>(() => second.Request(old, new MultiNodeContractTests.Ask("x")).AsTask().WaitAsync(s_wait));

        Assert.Equal(ErrorCodes.NoSuchTarget, error.Code);
        Assert.Equal("echo y from alpha", await second.Request(fresh, new MultiNodeContractTests.Ask("y")).AsTask().WaitAsync(s_wait));
    }
}
