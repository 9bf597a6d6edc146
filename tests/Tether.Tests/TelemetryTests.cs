using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Tether.Tests.TestSupport;

namespace Tether.Tests;

/// <summary>Traces on the "Tether" activity source and metrics on the "Tether" meter.</summary>
/// <remarks>Listeners are process-wide, so every assertion filters by this test's own node name.</remarks>
public sealed class TelemetryTests
{
    [Fact]
    public async Task Request_AToBToC_IsOneTraceOfRequestAndHandleSpans()
    {
        using var spans = new SpanCollector();
        await using Node node = Node.Create(new NodeOptions { Name = $"trace-{Guid.NewGuid():N}" });
        Address c = node.Spawn(() => new Hopper());
        Address b = node.Spawn(() => new Hopper());
        Address a = node.Spawn(() => new Hopper());
        Activity.Current = null;

        int depth = await node.Request(a, new Chain([b, c])).Within("A → B → C answers");

        Assert.Equal(3, depth);
        await Eventually.Until(() => spans.Of(node).Count == 6, "three request spans and three handle spans end");
        List<Activity> mine = spans.Of(node);
        Assert.Single(mine.Select(s => s.TraceId).Distinct());

        Activity Request(Address to) => Assert.Single(mine, s => s.OperationName == "tether.request" && (string?)s.GetTagItem("tether.to") == to.ToString());
        Activity Handle(Address at) => Assert.Single(mine, s => s.OperationName == "tether.handle" && (string?)s.GetTagItem("tether.target") == at.ToString());

        // outside → request(A) → handle(A) → request(B) → handle(B) → request(C) → handle(C)
        Assert.Equal(default, Request(a).ParentSpanId);
        Assert.Equal(Request(a).SpanId, Handle(a).ParentSpanId);
        Assert.Equal(Handle(a).SpanId, Request(b).ParentSpanId);
        Assert.Equal(Request(b).SpanId, Handle(b).ParentSpanId);
        Assert.Equal(Handle(b).SpanId, Request(c).ParentSpanId);
        Assert.Equal(Request(c).SpanId, Handle(c).ParentSpanId);
        Assert.All(mine.Where(s => s.OperationName == "tether.request"), s => Assert.Equal(ActivityKind.Client, s.Kind));
        Assert.All(mine.Where(s => s.OperationName == "tether.handle"), s => Assert.Equal(ActivityKind.Server, s.Kind));
        Assert.Equal(nameof(Chain), Handle(a).GetTagItem("tether.message_type"));
    }

    [Fact]
    public async Task Request_TwoIndependentRequests_AreTwoTraces()
    {
        using var spans = new SpanCollector();
        await using Node node = Node.Create(new NodeOptions { Name = $"trace-{Guid.NewGuid():N}" });
        Address b = node.Spawn(() => new Hopper());
        Address a = node.Spawn(() => new Hopper());
        Activity.Current = null;

        await node.Request(a, new Chain([b])).Within("the first request");
        await node.Request(a, new Chain([b])).Within("the second request");

        await Eventually.Until(() => spans.Of(node).Count == 8, "both traces' spans end");
        Assert.All(spans.Of(node).GroupBy(s => s.TraceId), trace => Assert.Equal(4, trace.Count()));
        Assert.Equal(2, spans.Of(node).Select(s => s.TraceId).Distinct().Count());
    }

    [Fact]
    public async Task Request_FromUntracedSendAfterAnAsyncHandlerSuspended_DoesNotJoinThatHandlersTrace()
    {
        using var spans = new SpanCollector();
        await using Node node = Node.Create(new NodeOptions { Name = $"trace-{Guid.NewGuid():N}" });
        Address helper = node.Spawn(() => new Hopper());
        var holder = new Holder();
        Address target = node.Spawn(() => holder);
        using var gate = new ManualResetEventSlim();
        Activity.Current = null;

        // Queue three messages behind a blocked handler so one mailbox run handles them back to back:
        // a traced request whose async handler suspends, then an untraced send whose handler makes a request.
        await MailboxTests.Hold(node, target, gate);
        Task<int> held = node.Request(target, new HoldOpen()).AsTask();
        node.Send(target, new AskHelper(helper));
        gate.Set();
        await holder.Asked.Task.Within("the untraced handler's request is answered");
        holder.Release.TrySetResult();
        await held.Within("the held request is answered");

        await Eventually.Until(() => spans.Of(node).Count(s => s.OperationName == "tether.request") == 2, "both request spans end");
        Activity heldRequest = Assert.Single(spans.Of(node), s => s.OperationName == "tether.request" && (string?)s.GetTagItem("tether.to") == target.ToString());
        Activity helperRequest = Assert.Single(spans.Of(node), s => s.OperationName == "tether.request" && (string?)s.GetTagItem("tether.to") == helper.ToString());
        Assert.NotEqual(heldRequest.TraceId, helperRequest.TraceId);
    }

    [Fact]
    public async Task Send_FromInsideACallersSpan_EachHandleSpanIsTheChildOfTheOneBefore()
    {
        // The trace context is read only while the "Tether" source has a listener: with one, a caller's own span (of
        // another source) is the parent of the first handle span, and a handler's send carries its handle span on.
        using var spans = new SpanCollector();
        using var caller = new ActivitySource($"Tether.Tests.Caller.{Guid.NewGuid():N}");
        using var callerListener = new ActivityListener
        {
            ShouldListenTo = source => ReferenceEquals(source, caller),
            Sample = static (ref ActivityCreationOptions<ActivityContext> options) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(callerListener);
        await using Node node = Node.Create(new NodeOptions { Name = $"trace-{Guid.NewGuid():N}" });
        Address b = node.Spawn(() => new Passer());
        Address a = node.Spawn(() => new Passer());
        Activity.Current = null;

        ActivityTraceId traceId;
        ActivitySpanId rootSpan;
        using (Activity root = caller.StartActivity("caller")!)
        {
            traceId = root.TraceId;
            rootSpan = root.SpanId;
            node.Send(a, new Pass([b]));
        }

        await Eventually.Until(() => spans.Of(node).Count == 2, "both handle spans end");
        Activity Handle(Address at) => Assert.Single(spans.Of(node), s => s.OperationName == "tether.handle" && (string?)s.GetTagItem("tether.target") == at.ToString());
        Assert.Equal(traceId, Handle(a).TraceId);
        Assert.Equal(rootSpan, Handle(a).ParentSpanId);
        Assert.Equal(traceId, Handle(b).TraceId);
        Assert.Equal(Handle(a).SpanId, Handle(b).ParentSpanId);
    }

    [Fact]
    public async Task Meter_MessagesSentHandledDroppedAndDeadLetters_AreCounted()
    {
        string name = $"meter-{Guid.NewGuid():N}";
        var sums = new ConcurrentDictionary<string, long>();
        var gauges = new ConcurrentDictionary<string, long>();
        int durations = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            bool ours = instrument.Meter.Name == "Tether"
                && instrument.Meter.Tags?.Any(t => t.Key == "tether.node" && Equals(t.Value, name)) == true;
            if (ours || (instrument.Meter.Name == "Tether" && instrument.Name == "tether.request.duration"))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, long value)
        {
            if (instrument is ObservableGauge<int> or ObservableGauge<long>)
            {
                gauges[instrument.Name] = value;
            }
            else
            {
                sums.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value);
            }
        }

        listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) => Record(instrument, value));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, state) => Record(instrument, value));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, state) => Interlocked.Increment(ref durations));

        await using Node node = Node.Create(new NodeOptions { Name = name });
        listener.Start();
        var probe = new Probe();
        Address target = node.Spawn(() => probe);
        var small = new Probe();
        Address smallTarget = node.Spawn(() => small, new SpawnOptions { MailboxCapacity = 2 });

        for (int i = 0; i < 10; i++)
        {
            node.Send(target, new Note(i));
        }

        for (int i = 0; i < 5; i++)
        {
            await node.Request(target, new Ping(i)).Within($"request {i}");
        }

        int notes = await node.Request(target, new CountNotes()).Within("the notes are counted");
        node.Send(new Address(name, 999_999), new Note(0)); // a dead letter
        using var gate = new ManualResetEventSlim();
        await MailboxTests.Hold(node, smallTarget, gate);
        node.Send(smallTarget, new Note(1));
        node.Send(smallTarget, new Note(2));
        node.Send(smallTarget, new Note(3)); // dropped: the mailbox holds two
        listener.RecordObservableInstruments();
        gate.Set();
        await Eventually.Until(() => small.Notes == 2, "the small mailbox drains");

        // Sent: 10 notes + 5 pings + the count request, then the block + 2 notes. Handled: the same.
        Assert.Equal(10, notes);
        Assert.Equal(19, sums.GetValueOrDefault("tether.messages.sent"));
        Assert.Equal(19, sums.GetValueOrDefault("tether.messages.handled"));
        Assert.Equal(1, sums.GetValueOrDefault("tether.messages.dropped"));
        Assert.Equal(1, sums.GetValueOrDefault("tether.messages.dead_letters"));
        Assert.Equal(2, gauges.GetValueOrDefault("tether.targets"));
        Assert.Equal(2, gauges.GetValueOrDefault("tether.mailbox.depth"));
        Assert.True(Volatile.Read(ref durations) >= 6, $"tether.request.duration recorded {durations} times for 6 requests");
    }

    private sealed record Chain(Address[] Next) : IRequest<int>;

    private sealed record HoldOpen : IRequest<int>;

    private sealed record AskHelper(Address Helper);

    private sealed record Pass(Address[] Next);

    /// <summary>Collects the spans of the "Tether" source that end while it listens.</summary>
    private sealed class SpanCollector : IDisposable
    {
        private readonly ConcurrentQueue<Activity> _stopped = new();
        private readonly ActivityListener _listener;

        public SpanCollector()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "Tether",
                Sample = static (ref ActivityCreationOptions<ActivityContext> options) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _stopped.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public List<Activity> Of(Node node) => [.. _stopped.Where(s =>
            ((s.GetTagItem("tether.to") ?? s.GetTagItem("tether.target")) as string)?.StartsWith(node.Name + "/", StringComparison.Ordinal) == true)];

        public void Dispose() => _listener.Dispose();
    }

    private sealed class Passer : Target, ITarget<Passer>
    {
        public static void Wire(Channels<Passer> channels) => channels
            .On<Pass>(static (_, m, ctx) =>
            {
                if (m.Next.Length > 0)
                {
                    ctx.Send(m.Next[0], new Pass(m.Next[1..]));
                }
            });
    }

    private sealed class Hopper : Target, ITarget<Hopper>
    {
        public static void Wire(Channels<Hopper> channels) => channels
            .RequestAsync<Chain, int>(static async (self, m, ctx) =>
                m.Next.Length == 0 ? 1 : 1 + await ctx.Request(m.Next[0], new Chain(m.Next[1..])));
    }

    private sealed class Holder : Target, ITarget<Holder>
    {
        public TaskCompletionSource Release { get; } = Waits.NewSignal();

        public TaskCompletionSource Asked { get; } = Waits.NewSignal();

        public static void Wire(Channels<Holder> channels) => channels
            .On<Block>(static (self, m, ctx) =>
            {
                m.Entered.TrySetResult();
                m.Gate.Wait(TimeSpan.FromSeconds(60));
            })
            .RequestAsync<HoldOpen, int>(static async (self, m, ctx) =>
            {
                await self.Release.Task;
                return 1;
            })
            .OnAsync<AskHelper>(static async (self, m, ctx) =>
            {
                await ctx.Request(m.Helper, new Chain([]));
                self.Asked.TrySetResult();
            });
    }
}
