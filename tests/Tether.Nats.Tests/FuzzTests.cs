using System.Collections.Concurrent;
using NATS.Client.Core;
using Tether.Nats.Internal;

namespace Tether.Nats.Tests;

/// <summary>
/// Fuzzing every subject a node listens to (its inbox, heartbeats, events, its service's queue group, its reply
/// subjects and <c>$SRV</c>) with a raw NATS.Net connection: random bytes, truncated and bit-flipped valid frames and
/// batches, oversized payloads, valid frames naming unregistered contracts or CLR type names. 100,000 frames in the normal
/// run, 1,000,000 with TETHER_STRESS=1. The node never crashes, counts every frame that is surely bad, and answers a
/// request after each burst. Durable topics are fuzzed the same way through their JetStream consumer only in
/// <see cref="DurabilityTests"/>' server setup; here the core subjects.
/// </summary>
[Collection(Exclusive.Name)]
public sealed class FuzzTests
{
    private const int Burst = 1_000;
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    private static int Total => Environment.GetEnvironmentVariable("TETHER_STRESS") == "1" ? 1_000_000 : 100_000;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task EverySubject_FuzzedFrames_NoCrash_EverySurelyBadFrameCounted_AndTheNodeAnswersAfterEachBurst(int seed)
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node alpha, BrokerProxy alphaProxy) = await cluster.AddNodeAsync("alpha");
        // A small frame limit, so an oversized frame stays under the server's own payload limit (1 MB) and reaches the node.
        (Node beta, BrokerProxy betaProxy) = await cluster.AddNodeAsync("beta", new BrokerOptions { MaxFrameBytes = 16 * 1024 });
        Address echo = beta.Spawn(() => new Echo());
        beta.RegisterService("fuzzed", echo);
        var seen = new ConcurrentQueue<Price>();
        beta.Spawn(() => new PriceWatcher("fuzz.prices", seen));
        await cluster.MeshedAsync();
        await betaProxy.WhenServingAsync();
        await Eventually.Until(() =>
        {
            alpha.Publish("fuzz.prices", new Price("probe", 0));
            return !seen.IsEmpty;
        }, "beta's topic subscription to reach the broker", s_wait);

        var wire = WireSerializer.For(betaProxy);
        int max = betaProxy.Options.MaxFrameBytes;
        // Valid frames of every kind a node reads, from a node that does not exist (a flipped name never becomes a real peer's).
        byte[][] valid =
        [
            new Frame { Kind = FrameKind.Send, SenderNode = "fuzzer", SenderId = 1, RecipientId = echo.Id, Contract = "test.numbered" }.Encode(typeof(Numbered), new Numbered("f", 1), wire),
            new Frame { Kind = FrameKind.Request, SenderNode = "fuzzer", SenderId = 1, RecipientId = echo.Id, Contract = "test.ask" }.Encode(typeof(Ask), new Ask("f"), wire),
            new Frame { Kind = FrameKind.Event, SenderNode = "fuzzer", SenderId = 1, Contract = "test.price" }.Encode(typeof(Price), new Price("f", 1), wire),
            new Frame { Kind = FrameKind.Heartbeat, SenderNode = "fuzzer" }.Encode(typeof(Dictionary<string, long[]>), new Dictionary<string, long[]> { ["x"] = [1] }, wire),
            new Frame { Kind = FrameKind.Response, SenderNode = "fuzzer", Contract = "test.ask" }.Encode(typeof(string), "r", wire),
        ];
        byte[] batch = Frame.EncodeBatch([.. valid.Select(v => ((long)0, (string?)null, v))]);

        string prefix = "tether.default";
        string[] counted = [$"{prefix}.node.beta", $"{prefix}.hb", $"{prefix}.svc.fuzzed", $"{prefix}.evt.fuzz.prices"];
        string[] others = [betaProxy.ReplyPrefix + "4242", "$SRV.PING", "$SRV.INFO.fuzzed", "$SRV.STATS"];

        var random = new Random(seed);
        await using var raw = new NatsConnection(NatsOpts.Default with { Url = cluster.Server.Url });
        await raw.ConnectAsync();
        long surelyBad = 0;
        long badBefore = betaProxy.Statistics.BadFrames;
        int probe = 0;
        for (int sent = 0; sent < Total; sent += Burst)
        {
            for (int i = 0; i < Burst; i++)
            {
                bool isCounted = random.Next(8) != 0;
                string subject = isCounted ? counted[random.Next(counted.Length)] : others[random.Next(others.Length)];
                (byte[] bytes, bool bad) = Mutant(random, valid, batch, max, subject);
                if (isCounted && bad)
                {
                    surelyBad++;
                }

                await raw.PublishAsync(subject, bytes);
            }

            await raw.PingAsync(); // the burst reached the server
            long expected = surelyBad;
            await Eventually.Until(() => betaProxy.Statistics.BadFrames - badBefore >= expected, $"beta to count the {expected} surely bad frames sent so far (counted {betaProxy.Statistics.BadFrames - badBefore})", s_wait);
            string answer = await alpha.Request(echo, new Ask($"after burst {++probe}")).AsTask().WaitAsync(s_wait);
            Assert.Equal($"echo after burst {probe} from beta", answer);
        }

        Assert.True(surelyBad > Total / 5, $"the fuzzer sent only {surelyBad} surely bad frames of {Total}");
        Assert.True(betaProxy.IsConnected && alphaProxy.IsConnected, "a node lost its connection under fuzzing");
        Assert.Contains("beta", alphaProxy.Peers); // fuzzed heartbeats never made a real peer look lost
    }

    /// <summary>One fuzzed message and whether the node must count it as bad whatever the random choices were.</summary>
    private static (byte[] Bytes, bool SurelyBad) Mutant(Random random, byte[][] valid, byte[] batch, int max, string subject)
    {
        byte[] Pick() => random.Next(4) == 0 ? batch : valid[random.Next(valid.Length)];
        switch (random.Next(100))
        {
            case < 25:
            {
                // Random bytes; starting with 0xC1 (a byte MessagePack never uses) no reader can take them for a frame.
                byte[] bytes = new byte[random.Next(1, 300)];
                random.NextBytes(bytes);
                bool sure = random.Next(2) == 0;
                if (sure)
                {
                    bytes[0] = 0xC1;
                }

                return (bytes, sure);
            }

            case < 45:
            {
                byte[] whole = Pick();
                return (whole[..random.Next(0, whole.Length)], false); // truncated: bad unless the cut left a shorter valid prefix
            }

            case < 75:
            {
                byte[] flipped = (byte[])Pick().Clone();
                for (int flips = random.Next(1, 4); flips > 0; flips--)
                {
                    flipped[random.Next(flipped.Length)] ^= (byte)(1 << random.Next(8));
                }

                return (flipped, false); // a flip in a payload's text may still be a valid frame
            }

            case < 85:
                // A valid frame naming an unregistered contract, or a CLR type name.
                string contract = random.Next(2) == 0 ? $"no.such.contract{random.Next(1000)}" : "System.Diagnostics.Process, System.Diagnostics.Process";
                FrameKind kind = subject.EndsWith(".hb", StringComparison.Ordinal) ? FrameKind.Send : subject.Contains(".evt.", StringComparison.Ordinal) ? FrameKind.Event : FrameKind.Send;
                return (new Frame { Kind = kind, SenderNode = "fuzzer", SenderId = 1, RecipientId = 1, Contract = contract }.Encode(null, null), true);
            case < 86:
                return (new byte[max + 1 + random.Next(1024)], true); // oversized
            case < 90:
                return ([], true); // empty
            default:
                return (valid[random.Next(valid.Length)], false); // valid here and there: the fuzz must not starve real traffic
        }
    }
}
