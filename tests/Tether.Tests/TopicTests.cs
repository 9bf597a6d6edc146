using System.Collections.Concurrent;
using Tether.Tests.TestSupport;

namespace Tether.Tests;

public sealed class TopicTests
{
    [Fact]
    public async Task Publish_FromNode_EverySubscriberGetsTheEventOnce()
    {
        await using Node node = Node.Create();
        Subscriber[] subscribers = [.. Enumerable.Range(0, 5).Select(_ => new Subscriber("prices"))];
        foreach (Subscriber s in subscribers)
        {
            node.Spawn(() => s);
        }

        Subscriber other = new("news");
        node.Spawn(() => other);
        var priceChanged = new PriceChanged("ACME", 12.5m);

        int reached = node.Publish("prices", priceChanged);

        Assert.Equal(5, reached);
        foreach (Subscriber s in subscribers)
        {
            await Eventually.Until(() => !s.Events.IsEmpty, "every subscriber gets the event");
        }

        // A follow-up event orders after the first, so when it arrives the first could not be doubled any more.
        node.Publish("prices", new PriceChanged("END", 0));
        foreach (Subscriber s in subscribers)
        {
            await Eventually.Until(() => s.Events.Count == 2, "every subscriber gets the follow-up event");
            Assert.Same(priceChanged, s.Events.First());
            Assert.True(s.Senders.First().IsNone);
        }

        Assert.Empty(other.Events);
    }

    [Fact]
    public async Task Publish_FromTarget_SubscribersSeeThePublisherAsSender()
    {
        await using Node node = Node.Create();
        var subscriber = new Subscriber("prices");
        node.Spawn(() => subscriber);
        Address publisher = node.Spawn(() => new Publisher());

        node.Send(publisher, new PublishPrice("prices", new PriceChanged("ACME", 1)));

        await Eventually.Until(() => subscriber.Events.Count == 1, "the subscriber gets the published event");
        Assert.Equal(publisher, subscriber.Senders.Single());
    }

    [Fact]
    public async Task Publish_NoSubscribers_ReachesNobody()
    {
        await using Node node = Node.Create();

        Assert.Equal(0, node.Publish("empty", new PriceChanged("ACME", 1)));
        Assert.Equal(0, node.Statistics.DeadLetters);
    }

    [Fact]
    public async Task Subscribe_Twice_DeliversOnce()
    {
        await using Node node = Node.Create();
        var subscriber = new Subscriber("prices", "prices");
        node.Spawn(() => subscriber);

        Assert.Equal(1, node.Publish("prices", new PriceChanged("ACME", 1)));
    }

    [Fact]
    public async Task Unsubscribe_AfterwardsEvents_DoNotArrive()
    {
        await using Node node = Node.Create();
        var subscriber = new Subscriber("prices");
        Address address = node.Spawn(() => subscriber);
        node.Publish("prices", new PriceChanged("A", 1));
        await Eventually.Until(() => subscriber.Events.Count == 1, "the first event arrives");

        await node.Request(address, new Leave("prices")).Within("the subscriber unsubscribes");

        Assert.Equal(0, node.Publish("prices", new PriceChanged("B", 2)));
        await node.Request(address, new Leave("nothing")).Within("a round trip after the second publish");
        Assert.Single(subscriber.Events);
    }

    [Fact]
    public async Task Publish_SubscriberEnded_NoLongerReached()
    {
        await using Node node = Node.Create();
        var stays = new Subscriber("prices");
        var leaves = new Subscriber("prices");
        node.Spawn(() => stays);
        Address leaving = node.Spawn(() => leaves);

        node.End(leaving);
        await leaves.Ended.Task.Within("the subscriber ends");

        Assert.Equal(1, node.Publish("prices", new PriceChanged("A", 1)));
        Assert.Equal(0, node.Statistics.DeadLetters);
    }

    [Fact]
    public async Task Publish_SubscriberWithoutChannel_IsNotADeadLetter()
    {
        await using Node node = Node.Create();
        var subscriber = new Subscriber("prices");
        Address address = node.Spawn(() => subscriber);

        Assert.Equal(1, node.Publish("prices", "an event type the subscriber did not wire"));
        await node.Request(address, new Leave("nothing")).Within("a round trip after the publish");

        Assert.Equal(0, node.Statistics.DeadLetters);
        Assert.Empty(subscriber.Events);
    }

    [Fact]
    public async Task Publish_EmptyTopicName_Throws()
    {
        await using Node node = Node.Create();

        Assert.Throws<ArgumentException>(() => node.Publish(" ", new PriceChanged("A", 1)));
    }

    [Fact]
    public async Task Publish_ManyEventsFromOnePublisher_ArriveInOrderAtEverySubscriber()
    {
        await using Node node = Node.Create();
        Subscriber[] subscribers = [.. Enumerable.Range(0, 4).Select(_ => new Subscriber("ticks"))];
        foreach (Subscriber s in subscribers)
        {
            node.Spawn(() => s);
        }

        for (int i = 0; i < 1_000; i++)
        {
            node.Publish("ticks", new PriceChanged("T", i));
        }

        foreach (Subscriber s in subscribers)
        {
            await Eventually.Until(() => s.Events.Count == 1_000, "every subscriber gets all 1,000 events");
            Assert.Equal(Enumerable.Range(0, 1_000).Select(i => (decimal)i), s.Events.Select(e => e.Price));
        }
    }

    private sealed record PriceChanged(string Symbol, decimal Price);

    private sealed record PublishPrice(string Topic, PriceChanged Event);

    private sealed record Leave(string Topic) : IRequest<bool>;

    private sealed class Subscriber(params string[] topics) : Target, ITarget<Subscriber>
    {
        public ConcurrentQueue<PriceChanged> Events { get; } = new();

        public ConcurrentQueue<Address> Senders { get; } = new();

        public TaskCompletionSource Ended { get; } = Waits.NewSignal();

        public static void Wire(Channels<Subscriber> channels) => channels
            .On<PriceChanged>(static (self, m, ctx) =>
            {
                self.Senders.Enqueue(ctx.Sender);
                self.Events.Enqueue(m);
            })
            .Request<Leave, bool>(static (self, m, ctx) =>
            {
                ctx.Unsubscribe(m.Topic);
                return true;
            });

        protected internal override void OnStarted(Context context)
        {
            foreach (string topic in topics)
            {
                context.Subscribe(topic);
            }
        }

        protected internal override void OnEnded(Context context, string reason) => Ended.TrySetResult();
    }

    private sealed class Publisher : Target, ITarget<Publisher>
    {
        public static void Wire(Channels<Publisher> channels) => channels
            .On<PublishPrice>(static (self, m, ctx) => ctx.Publish(m.Topic, m.Event));
    }
}
