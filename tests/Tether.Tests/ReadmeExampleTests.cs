namespace Tether.Tests;

/// <summary>The example in README.md, kept compiling and true.</summary>
public sealed class ReadmeExampleTests
{
    public sealed record Greet(string Name) : IRequest<string>;

    public sealed record Start(string Name) : IRequest<string>;

    public sealed class Greeter : Target, ITarget<Greeter>
    {
        private int _count;

        public static void Wire(Channels<Greeter> channels) => channels
            .Request<Greet, string>(static (self, m, ctx) => $"Hello, {m.Name}! (greeting #{++self._count})");
    }

    public sealed class Caller(Address greeter) : Target, ITarget<Caller>
    {
        private readonly Address _greeter = greeter;

        public static void Wire(Channels<Caller> channels) => channels
            .RequestAsync<Start, string>(static async (self, m, ctx) => await ctx.Request(self._greeter, new Greet(m.Name)));
    }

    [Fact]
    public async Task ReadmeExample_TwoTargetsTalking_AnswersThroughTheCaller()
    {
        await using Node node = Node.Create();
        Address greeter = node.Spawn(() => new Greeter());
        Address caller = node.Spawn(() => new Caller(greeter));
        Assert.Equal("Hello, Ada! (greeting #1)", await node.Request(caller, new Start("Ada")));
        Assert.Equal("Hello, Bob! (greeting #2)", await node.Request(caller, new Start("Bob")));
    }
}
