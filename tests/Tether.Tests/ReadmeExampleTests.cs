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

    public sealed record Quote(string Item) : IRequest<int>;

    public sealed record Price(string Item) : IRequest<int>;

    public sealed record Begin;

    public sealed class QuoteDesk(Address[] suppliers) : Target, ITarget<QuoteDesk>
    {
        private readonly Address[] _suppliers = suppliers;

        public static void Wire(Channels<QuoteDesk> channels) => channels
            .Deferred<Quote, int>(static (self, m, answer, ctx) => ctx.Spawn(() => new QuoteWorker(answer, m.Item, self._suppliers)));
    }

    public sealed class QuoteWorker(ReplyToken<int> answer, string item, Address[] suppliers) : Target, ITarget<QuoteWorker>
    {
        private readonly ReplyToken<int> _answer = answer;
        private readonly string _item = item;
        private readonly Address[] _suppliers = suppliers;

        // README writes "protected override": this assembly sees Tether's internals, so it must say "protected internal".
        protected internal override void OnStarted(Context context) => context.Send(context.Self, new Begin());

        public static void Wire(Channels<QuoteWorker> channels) => channels
            .OnAsync<Begin>(static async (self, _, ctx) =>
            {
                int best = int.MaxValue;
                foreach (Address supplier in self._suppliers)
                {
                    best = Math.Min(best, await ctx.Request(supplier, new Price(self._item)));
                }

                self._answer.Reply(best);
                ctx.EndSelf();
            });
    }

    public sealed class Supplier(int price) : Target, ITarget<Supplier>
    {
        private readonly int _price = price;

        public static void Wire(Channels<Supplier> channels) => channels.Request<Price, int>(static (self, _, _) => self._price);
    }

    [Fact]
    public async Task ReadmeExample_WorkingTargetBeginsInOnStarted_AnswersAndEnds()
    {
        await using Node node = Node.Create();
        Address[] suppliers = [node.Spawn(() => new Supplier(7)), node.Spawn(() => new Supplier(3)), node.Spawn(() => new Supplier(5))];
        Address desk = node.Spawn(() => new QuoteDesk(suppliers));

        Assert.Equal(3, await node.Request(desk, new Quote("book")).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));

        // The worker ended itself: only the desk and the three suppliers remain (awaited with a deadline; ending is a system message).
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (node.Statistics.Targets != 4)
        {
            await Task.Delay(10, deadline.Token); // polling a condition with a deadline
        }
    }
}
