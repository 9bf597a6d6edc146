using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Tether.Nats.Tests;

/// <summary>
/// A clean stop is not a crash: a node that stops normally (its broker proxy disposed, `tether node` given SIGTERM)
/// says goodbye, and its peers fail its pending requests at once with <see cref="ErrorCodes.NodeStopped"/>, log no
/// warning and do not count it as lost; `tether node` drains within its shutdown timeout and exits within it, also
/// when its NATS server is already gone.
/// </summary>
[Collection(Exclusive.Name)]
public sealed class CleanStopTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ProxyDisposed_PeersFailItsPendingRequestsAtOnce_WithNodeStopped_NoWarning_NotLost(int round)
    {
        _ = round;
        await using Cluster cluster = await Cluster.StartAsync();
        var warnings = new WarningLog();
        using ILoggerFactory logging = LoggerFactory.Create(b => b.AddProvider(warnings));
        await using Node alpha = Node.Create(new NodeOptions { Name = "alpha", LoggerFactory = logging });
        await using BrokerProxy alphaProxy = await BrokerProxy.AttachAsync(alpha, new BrokerOptions { Url = cluster.Server.Url, Contracts = Cluster.Contracts() });
        (Node beta, BrokerProxy betaProxy) = await cluster.AddNodeAsync("beta");
        Address echo = beta.Spawn(() => new Echo());
        await Eventually.Until(() => alphaProxy.Peers.Contains("beta"), "alpha to hear beta", s_wait);
        Assert.StartsWith("echo hi", await alpha.Request(echo, new Ask("hi")).AsTask().WaitAsync(s_wait), StringComparison.Ordinal);

        long received = betaProxy.Statistics.FramesReceived;
        Task<string>[] pending = Enumerable.Range(0, 50).Select(_ => alpha.Request(echo, new Never(), TimeSpan.FromSeconds(60)).AsTask()).ToArray();
        await Eventually.Until(() => alphaProxy.Statistics.PendingRemoteRequests == pending.Length && betaProxy.Statistics.FramesReceived >= received + pending.Length, "alpha's requests to reach beta", s_wait);

        long stopped = Stopwatch.GetTimestamp();
        await betaProxy.DisposeAsync();
        await Task.WhenAll(pending.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(s_wait);
        TimeSpan took = Stopwatch.GetElapsedTime(stopped);

        Assert.All(pending, r => Assert.Equal(ErrorCodes.NodeStopped, Assert.IsType<TetherException>(r.Exception!.InnerException).Code));
        // The claim is "at once, not by silence": well under the failure timeout (2 s) that silence would need.
        // Claim (README, a clean stop): peers are told at once; the bound is below FailureTimeout (2 s), which is what
        // ends them when no goodbye comes, so a missing goodbye cannot pass.
        Assert.True(took < TimeSpan.FromSeconds(1.5), $"the pending requests ended {took.TotalSeconds:0.00} s after beta's proxy closed; a goodbye must end them before the 2 s failure timeout");
        Assert.Equal((0L, 1L), (alphaProxy.Statistics.PeersLost, alphaProxy.Statistics.PeersStopped));
        Assert.Empty(warnings.Lines);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Sigterm_NodeProcessDrainsAndExits_PeersSeeAStop_NotALoss(int round)
    {
        _ = round;
        await using Cluster cluster = await Cluster.StartAsync();
        var warnings = new WarningLog();
        using ILoggerFactory logging = LoggerFactory.Create(b => b.AddProvider(warnings));
        await using Node beta = Node.Create(new NodeOptions { Name = "beta", LoggerFactory = logging });
        await using BrokerProxy betaProxy = await BrokerProxy.AttachAsync(beta, new BrokerOptions { Url = cluster.Server.Url, Contracts = OwnerProcessLossTests.Register(Cluster.Contracts()) });
        using NodeProcess node = await NodeProcess.StartAsync("stopping-a", cluster.Server.Url, new Dictionary<string, string> { ["Tether__ShutdownTimeout"] = "3s" });
        await Eventually.Until(() => betaProxy.Peers.Contains("stopping-a"), "beta to hear the node process", s_wait);
        Task<string>[] pending = Enumerable.Range(0, 50).Select(_ => beta.Request("owner-stopping-a", new OwnerProcessLossTests.Hang(), TimeSpan.FromSeconds(8)).AsTask()).ToArray();
        // In flight and held by the node process: each taker's Accepted notice came back (else a request still on its way
        // when the service left the broker would rightly end with no-such-service, and this test would prove nothing).
        await Eventually.Until(() => betaProxy.PendingDestinations() is { Count: 50 } held && held.All(d => d == "node stopping-a"), "beta's requests to reach the node process", s_wait);

        string[] destinations = [.. betaProxy.PendingDestinations().Distinct()];
        long stopped = Stopwatch.GetTimestamp();
        node.Terminate();
        await node.WaitForExitAsync(new CancellationTokenSource(s_wait).Token);
        TimeSpan exited = Stopwatch.GetElapsedTime(stopped);
        await Task.WhenAll(pending.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(s_wait);
        TimeSpan ended = Stopwatch.GetElapsedTime(stopped);

        // Its targets ended while it drained (target-ended, or no-such-target for a request that reached the target
        // after it ended), or the goodbye ended what was still open (node-stopped); never node-unreachable (the code of a
        // crash), never a timeout (the requests' 8 s deadline): a clean stop ends them at once.
        string[] codes = [.. pending.Select(r => ((TetherException)r.Exception!.InnerException!).Code)];
        string why = $"codes [{string.Join(", ", codes.GroupBy(c => c).Select(g => $"{g.Key} x{g.Count()}"))}], watched as [{string.Join(", ", destinations)}], ended {ended.TotalSeconds:0.00} s after SIGTERM\n{node.Output}";
        Assert.True(codes.All(c => c is ErrorCodes.TargetEnded or ErrorCodes.NoSuchTarget or ErrorCodes.NodeStopped), why);
        // Claim (README, a clean stop): the process exits within Tether:ShutdownTimeout (3 s here); + 1.5 s for the
        // runtime's own exit and the wait for it on a loaded machine.
        Assert.True(exited < TimeSpan.FromSeconds(4.5), $"`tether node` exited {exited.TotalSeconds:0.00} s after SIGTERM; its shutdown timeout is 3 s\n{node.Output}");
        // The goodbye is handled on beta's heartbeat reader, maybe after the answers above: wait for it. Silence would
        // count the node in PeersLost instead, so waiting longer than the failure timeout cannot hide a missing goodbye.
        await Eventually.Until(() => betaProxy.Statistics.PeersStopped + betaProxy.Statistics.PeersLost >= 1, "beta to see the node go", s_wait);
        Assert.Equal((0L, 1L), (betaProxy.Statistics.PeersLost, betaProxy.Statistics.PeersStopped));
        Assert.Empty(warnings.Lines);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Sigterm_WhileItsNatsServerIsGone_NodeProcessStillExitsWithinItsShutdownTimeout(int round)
    {
        _ = round;
        await using Cluster cluster = await Cluster.StartAsync();
        using NodeProcess node = await NodeProcess.StartAsync("orphan-a", cluster.Server.Url, new Dictionary<string, string> { ["Tether__ShutdownTimeout"] = "2s" });
        cluster.Server.Kill(); // as a pod's broker sidecar that got SIGTERM at the same moment
        await Eventually.Until(() => node.Output.Contains("isconnect", StringComparison.Ordinal) || node.Output.Contains("econnect", StringComparison.Ordinal), "the node to notice its server is gone", s_wait);

        long stopped = Stopwatch.GetTimestamp();
        node.Terminate();
        try
        {
            await node.WaitForExitAsync(new CancellationTokenSource(s_wait).Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"`tether node` had not exited {s_wait.TotalSeconds} s after SIGTERM with its server gone:\n{node.Output}");
        }

        TimeSpan exited = Stopwatch.GetElapsedTime(stopped);
        // Claim (README, a clean stop): the process exits within Tether:ShutdownTimeout (2 s here) also with its server
        // gone; + 1.5 s for the runtime's own exit and the wait for it on a loaded machine.
        Assert.True(exited < TimeSpan.FromSeconds(3.5), $"`tether node` exited {exited.TotalSeconds:0.00} s after SIGTERM with its server gone; its shutdown timeout is 2 s\n{node.Output}");
    }

    /// <summary>Keeps every log line of level Warning or above.</summary>
    private sealed class WarningLog : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                _lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
            }
        }

        public void Dispose()
        {
        }
    }
}
