using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tether.Sessions;
using Tether.Skin.Tests.Support;

namespace Tether.Skin.Tests;

/// <summary>A service whose quotes need the right <see cref="GatewayStatusTests.QuoteRight"/>, declared where its channel is wired.</summary>
public sealed class Vault : Target, ITarget<Vault>
{
    public static void Wire(Channels<Vault> channels) => channels
        .Request<GetQuote, Quote>(static (self, m, ctx) => new Quote(m.Sku, 1, 2.5m, [ctx.Session!.UserName]))
        .Requires(GatewayStatusTests.QuoteRight);
}

/// <summary>Takes <see cref="Sleep"/> requests, says so, and never answers them.</summary>
public sealed class TakingSleeper(TaskCompletionSource taken) : Target, ITarget<TakingSleeper>
{
    private readonly TaskCompletionSource _taken = taken;

    public static void Wire(Channels<TakingSleeper> channels) => channels
        .Deferred<Sleep, string>(static (self, m, reply, ctx) => self._taken.TrySetResult());
}

/// <summary>
/// The gateway's 401, 403 and 503 over real HTTP from the real causes: the session manager of Tether.Sessions (a
/// protected service without a session, with a bad token, with a session that lacks the right) and a real second node
/// over a real nats-server that goes away while it holds a request.
/// </summary>
public sealed class GatewayStatusTests : IAsyncLifetime
{
    public const string QuoteRight = "quotes.read";
    private const string Password = "correct horse battery";

    private readonly string _folder = Directory.CreateTempSubdirectory("tether-gateway-").FullName;
    private SkinHost _host = null!;
    private SessionManager _sessions = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        SessionKeys keys = SessionKeys.Generate();
        var verifier = new SessionVerifier(keys.PublicOnly());
        Node node = Node.Create(new NodeOptions { Name = "web", Adapters = SkinHost.Adapters(), Sessions = verifier });
        verifier.Attach(node);
        node.RegisterService("vault", node.Spawn(() => new Vault()));
        _sessions = await SessionManager.StartAsync(node, new SessionManagerOptions { Keys = keys, SqlitePath = Path.Join(_folder, "users.db"), WorkFactor = 4 });
        await _sessions.Users.CreateUserAsync("ada", Password, [QuoteRight], workFactor: 4);
        await _sessions.Users.CreateUserAsync("bob", Password, ["something.else"], workFactor: 4);
        _host = await SkinHost.StartAsync(web: node, gateway: new GatewayOptions { Contracts = new GatewayContracts().Add<GetQuote, Quote>("test.quote") });
        _http = new HttpClient { BaseAddress = _host.BaseUri, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        _http?.Dispose();
        if (_sessions is not null)
        {
            await _sessions.DisposeAsync();
        }

        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task ProtectedService_WithoutASession_Is401Unauthenticated_AndWithABadToken_Too()
    {
        JsonElement none = await Problems.Expect(await Post("vault", "test.quote", """{"sku":"A-1"}""", token: null), HttpStatusCode.Unauthorized, ErrorCodes.Unauthenticated);
        Assert.Contains(QuoteRight, none.GetProperty("detail").GetString(), StringComparison.Ordinal);

        string ada = await LoginAsync("ada");
        string tampered = ada[..^4] + (ada.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        await Problems.Expect(await Post("vault", "test.quote", """{"sku":"A-1"}""", tampered), HttpStatusCode.Unauthorized, ErrorCodes.Unauthenticated);
        await Problems.Expect(await Post("vault", "test.quote", """{"sku":"A-1"}""", "not-a-token"), HttpStatusCode.Unauthorized, ErrorCodes.Unauthenticated);
    }

    [Fact]
    public async Task ProtectedService_SessionWithoutTheRight_Is403Forbidden_AndWithIt_200()
    {
        JsonElement forbidden = await Problems.Expect(await Post("vault", "test.quote", """{"sku":"A-1"}""", await LoginAsync("bob")), HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        Assert.Contains(QuoteRight, forbidden.GetProperty("detail").GetString(), StringComparison.Ordinal);

        HttpResponseMessage ok = await Post("vault", "test.quote", """{"sku":"A-1"}""", await LoginAsync("ada"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        JsonElement quote = JsonDocument.Parse(await ok.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("ada", quote.GetProperty("tags")[0].GetString()); // the handler saw the verified session
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task ServiceOnANodeThatStops_WhileItHoldsTheRequest_Is503NodeStopped_BeforeTheDeadline(int round)
    {
        TimeSpan deadline = TimeSpan.FromSeconds(30);
        await using TwoNodes nodes = await TwoNodes.StartAsync();
        var taken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        nodes.Dialogs.RegisterService("far", nodes.Dialogs.Spawn(() => new TakingSleeper(taken)));
        await using SkinHost web = await SkinHost.StartAsync(web: nodes.Web, gateway: new GatewayOptions { Contracts = new GatewayContracts().Add<Sleep, string>("test.sleep"), Timeout = deadline });
        using var http = new HttpClient { BaseAddress = web.BaseUri, Timeout = deadline * 2 };

        // The web node sends to the instance it learned from the dialogs node's heartbeats, so it knows from the start which
        // node holds the request. (Through the queue group, it learns the taker from a notice the taker sends; a taker
        // that dies before that notice arrives leaves the request to its deadline, a 504: not what this test is about.)
        await Eventually.Until(() => nodes.WebProxy.Latencies("far").Count == 1, TimeSpan.FromSeconds(15), $"round {round}: the web node learned where service far lives");

        long sent = Stopwatch.GetTimestamp();
        Task<HttpResponseMessage> pending = PostAsync(http, "far", "test.sleep", """{"ms":0}""", token: null);
        await taken.Task.WaitAsync(TimeSpan.FromSeconds(15)); // the request is held on the other node
        await nodes.StopDialogsNodeAsync();

        // The dialogs node stops cleanly (its proxy says goodbye), so the code is node-stopped, not node-unreachable;
        // both are 503.
        JsonElement problem = await Problems.Expect(await pending.WaitAsync(deadline), HttpStatusCode.ServiceUnavailable, ErrorCodes.NodeStopped);
        TimeSpan took = Stopwatch.GetElapsedTime(sent);
        Assert.True(took < deadline / 2, $"round {round}: answered after {took.TotalSeconds:F1} s; a lost node must fail its requests fast, not at the {deadline.TotalSeconds:F0} s deadline");
        Assert.Contains("dialogs", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private async Task<string> LoginAsync(string user)
    {
        LoginResult login = await _host.Node.Request(SessionManager.DefaultServiceName, new Login(user, Password)).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        return login.Token;
    }

    private Task<HttpResponseMessage> Post(string service, string contract, string json, string? token) => PostAsync(_http, service, contract, json, token);

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string service, string contract, string json, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/{service}/{contract}")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await http.SendAsync(request);
    }
}
