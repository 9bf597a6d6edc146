using System.Diagnostics;

namespace Tether.Demo.Tests;

/// <summary>Deadlines for awaited outcomes (never a bare sleep). Generous: 2 cores are shared with other builds.</summary>
internal static class Waits
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static async Task<T> Within<T>(this ValueTask<T> task, string phase)
    {
        try
        {
            return await task.AsTask().WaitAsync(Deadline);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"timed out waiting for: {phase}");
        }
    }

    public static async Task<T> Within<T>(this Task<T> task, string phase)
    {
        try
        {
            return await task.WaitAsync(Deadline);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"timed out waiting for: {phase}");
        }
    }

    /// <summary>Awaits a request that must fail with a <see cref="TetherException"/>, and returns it.</summary>
    public static async Task<TetherException> FailsWithin<T>(this ValueTask<T> task, string phase)
    {
        try
        {
            T value = await task.AsTask().WaitAsync(Deadline);
            throw new Xunit.Sdk.XunitException($"{phase}: expected an error, got {value}");
        }
        catch (TetherException ex)
        {
            return ex;
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"timed out waiting for: {phase}");
        }
    }

    public static async Task Until(Func<bool> condition, string phase, TimeSpan? deadline = null)
    {
        long start = Stopwatch.GetTimestamp();
        while (!condition())
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < (deadline ?? Deadline), $"timed out waiting for: {phase}");
            await Task.Delay(10); // polling a condition with a deadline
        }
    }
}

/// <summary>A temporary folder, deleted at the end (also when the test fails).</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Path = Directory.CreateTempSubdirectory("tether-demo-").FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Join(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>
/// An embedded node running demo roles on a SQLite file in a temp folder, with the demo's session verifier: the order
/// desk requires a session with <see cref="DemoApp.OrderRight"/>, which <see cref="TokenAsync"/> gives (the demo user's).
/// </summary>
internal sealed class DemoNode : IAsyncDisposable
{
    private readonly TempFolder? _owned;
    private readonly DemoOptions _options;
    private readonly SemaphoreSlim _login = new(1, 1);
    private DemoRun? _sessions;
    private string? _token;

    private DemoNode(Node node, DemoServices services, DemoOptions options, TempFolder? owned)
    {
        Node = node;
        Services = services;
        _options = options;
        _owned = owned;
    }

    public Node Node { get; }

    public DemoServices Services { get; }

    public string Database => _options.DatabasePath;

    public static DemoNode Start(DemoRoles roles = DemoRoles.All, string? database = null, int seed = 10_000, string? postgres = null)
    {
        TempFolder? owned = database is null ? new TempFolder() : null;
        var options = new DemoOptions { DatabasePath = database ?? owned!.File("demo.db"), SeedProducts = seed, PostgresConnection = postgres };
        Tether.Sessions.SessionVerifier verifier = DemoApp.CreateVerifier(options);
        Node node = Node.Create(new NodeOptions { Adapters = Shared.Adapters, Sessions = verifier });
        try
        {
            verifier.Attach(node);
            DemoServices services = DemoApp.Start(node, roles, options);
            return new DemoNode(node, services, options, owned);
        }
        catch
        {
            node.DisposeAsync().AsTask().GetAwaiter().GetResult();
            owned?.Dispose();
            throw;
        }
    }

    /// <summary>The demo user's session token (right <see cref="DemoApp.OrderRight"/>): the session manager starts on this node at the first call.</summary>
    public async Task<string> TokenAsync()
    {
        await _login.WaitAsync();
        try
        {
            if (_token is null)
            {
                _sessions ??= await DemoApp.StartAsync(Node, DemoRoles.Sessions, _options).WaitAsync(Waits.Deadline);
                Tether.Sessions.LoginResult login = await Node.Request(DemoApp.SessionsService, new Tether.Sessions.Login(DemoApp.DemoUser, DemoApp.DemoPassword)).Within("the demo user's login");
                _token = login.Token;
            }

            return _token;
        }
        finally
        {
            _login.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_sessions is not null)
            {
                await _sessions.DisposeAsync();
            }
        }
        finally
        {
            await Node.DisposeAsync();
            _owned?.Dispose();
            _login.Dispose();
        }
    }
}

internal static class Shared
{
    /// <summary>Built once: reading and compiling the specs is the costly part, and they never change during a run.</summary>
    public static readonly Tether.Adapters.MessageAdapters Adapters = DemoApp.CreateAdapters();

    public static ShipTo Address => new("Ada Lovelace", "12 Analytical Way", "London", "NW1 2AB", "GB");
}

/// <summary>Keeps every <see cref="StockChanged"/> event of the demo's topic.</summary>
internal sealed class StockWatcher(System.Collections.Concurrent.ConcurrentQueue<StockChanged> seen) : Target, ITarget<StockWatcher>
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<StockChanged> _seen = seen;

    public static void Wire(Channels<StockWatcher> channels) => channels
        .On<StockChanged>(static (self, m, ctx) => self._seen.Enqueue(m));

    protected override void OnStarted(Context context) => context.Subscribe(DemoApp.StockTopic);
}
