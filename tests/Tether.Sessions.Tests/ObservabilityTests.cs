using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Tether.Sessions.Tests;

/// <summary>Logs, spans and metrics of logins and verifications: user names yes, passwords and tokens never.</summary>
[Collection("telemetry")]
public sealed class ObservabilityTests : IDisposable
{
    private const string WrongPassword = "Wr0ng-Secret-Pw-7731";
    private const string RightPassword = "C0rrect-Secret-Pw-9924";

    private readonly SqliteKind _store = new();

    public void Dispose() => _store.Dispose();

    [Fact]
    public async Task FailedAndSuccessfulLogin_LogsSpansAndErrors_NameTheUser_ButNeverThePasswordOrToken()
    {
        var logs = new CapturingLoggerProvider();
        using ILoggerFactory factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var spans = new ConcurrentQueue<string>();
        var spanNames = new ConcurrentQueue<string>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name is "Tether.Sessions" or "Tether",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                spanNames.Enqueue(a.OperationName);
                spans.Enqueue($"{a.OperationName} {a.DisplayName} {a.StatusDescription} {string.Join(" ", a.TagObjects.Select(t => $"{t.Key}={t.Value}"))} {string.Join(" ", a.Events.Select(e => e.Name + string.Join(" ", e.Tags.Select(t => $"{t.Key}={t.Value}"))))}");
            },
        };
        ActivitySource.AddActivityListener(activities);
        var counts = new ConcurrentDictionary<string, long>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Tether.Sessions")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, _, _) => counts.AddOrUpdate(instrument.Name, value, (_, v) => v + value));
        meters.Start();

        await using Sessions sessions = await Sessions.StartAsync(_store, logging: factory);
        await sessions.Manager.Users.CreateUserAsync("observed-user", RightPassword, ["orders.place"], workFactor: 4);
        var verifier = new SessionVerifier(sessions.Keys.PublicOnly());
        verifier.Attach(sessions.Node);

        TetherException failed = await Assert.ThrowsAsync<TetherException>(async () => await sessions.LoginAsync("observed-user", WrongPassword));
        LoginResult login = await sessions.LoginAsync("observed-user", RightPassword);
        SessionVerdict verdict = await verifier.VerifyAsync(login.Token, "orders.place", CancellationToken.None);
        SessionVerdict forbidden = await verifier.VerifyAsync(login.Token, "orders.cancel", CancellationToken.None);
        Assert.True(await sessions.Node.Request("sessions", new Logout(login.Token)));
        TetherException revoked = await Assert.ThrowsAsync<TetherException>(async () => await sessions.Node.Request("sessions", new VerifySession(login.Token, null)));
        await Eventually.Until(() => Task.FromResult(spanNames.Contains("sessions.verify.remote") && spanNames.Count(n => n == "sessions.login") >= 2), "the spans to end", TimeSpan.FromSeconds(10));
        meters.RecordObservableInstruments();

        Assert.True(verdict.IsAllowed);
        string everything = string.Join("\n", logs.Lines) + "\n" + string.Join("\n", spans) + "\n" + failed + "\n" + revoked + "\n" + forbidden.ErrorText;
        string signature = login.Token[(login.Token.IndexOf('.', StringComparison.Ordinal) + 1)..];
        string payload = login.Token[..login.Token.IndexOf('.', StringComparison.Ordinal)];
        Assert.DoesNotContain(WrongPassword, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(RightPassword, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(signature, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(payload, everything, StringComparison.Ordinal);
        Assert.Contains(logs.Lines, l => l.Contains("observed-user", StringComparison.Ordinal) && l.Contains("refused", StringComparison.Ordinal));
        Assert.Contains(logs.Lines, l => l.Contains("observed-user", StringComparison.Ordinal) && l.Contains("logged in", StringComparison.Ordinal));
        Assert.Contains(spans, s => s.StartsWith("sessions.login", StringComparison.Ordinal) && s.Contains("tether.sessions.user=observed-user", StringComparison.Ordinal));
        Assert.Contains(spans, s => s.StartsWith("sessions.verify.remote", StringComparison.Ordinal));
        Assert.True(counts.GetValueOrDefault("tether.sessions.logins") >= 1, "logins counted");
        Assert.True(counts.GetValueOrDefault("tether.sessions.login_failures") >= 1, "failures counted");
        Assert.True(counts.GetValueOrDefault("tether.sessions.verifications.remote") >= 1, "remote verifications counted");
        Assert.True(counts.GetValueOrDefault("tether.sessions.verifications.cached") >= 0);
        Assert.True(counts.GetValueOrDefault("tether.sessions.verifications.refused") >= 1, "refusals counted");
        Assert.True(counts.GetValueOrDefault("tether.sessions.revocations") >= 1, "revocations counted");
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull
            {
                owner.Lines.Enqueue($"scope {state}");
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                string values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
                owner.Lines.Enqueue($"{category} {logLevel} {formatter(state, exception)} {values} {exception}");
            }
        }
    }
}
