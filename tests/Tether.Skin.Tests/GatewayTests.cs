using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tether.Skin.Tests.Support;

namespace Tether.Skin.Tests;

public sealed record Fail(string Code) : IRequest<string>;

public sealed record Sleep(int Ms) : IRequest<string>;

public sealed record Quote(string Sku, int Quantity, decimal Price, IReadOnlyList<string> Tags);

public sealed record GetQuote(string Sku) : IRequest<Quote>;

/// <summary>Answers with the error code it is asked for, as a service that refuses would.</summary>
public sealed class Failer : Target, ITarget<Failer>
{
    public static void Wire(Channels<Failer> channels) => channels
        .Request<Fail, string>(static (self, m, ctx) => throw new TetherException(m.Code, $"refused with {m.Code} on purpose"))
        .Request<GetQuote, Quote>(static (self, m, ctx) => new Quote(m.Sku, 3, 9.5m, ["new", "sale"]));
}

/// <summary>Takes requests and never answers them: the requester's deadline ends them.</summary>
public sealed class Sleeper : Target, ITarget<Sleeper>
{
    public static void Wire(Channels<Sleeper> channels) => channels
        .Deferred<Sleep, string>(static (self, m, reply, ctx) => { });
}

/// <summary>The HTTP gateway over real HTTP: each status code, malformed bodies, the session header, the OpenAPI document.</summary>
public sealed class GatewayTests : IAsyncLifetime
{
    private SkinHost _host = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _host = await SkinHost.StartAsync(
            setUp: node =>
            {
                node.RegisterService("failer", node.Spawn(() => new Failer()));
                node.RegisterService("sleeper", node.Spawn(() => new Sleeper()));
            },
            gateway: new GatewayOptions
            {
                Contracts = new GatewayContracts()
                    .Add<Signup, string>("test.signup")
                    .Add<Fail, string>("test.fail")
                    .Add<Sleep, string>("test.sleep")
                    .Add<GetQuote, Quote>("test.quote"),
                Timeout = TimeSpan.FromMilliseconds(300),
                MaxBodyBytes = 4096,
            });
        _http = new HttpClient { BaseAddress = _host.BaseUri, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task Request_IsAnsweredWithTheServicesAnswerAsJson()
    {
        HttpResponseMessage response = await Post("registry", "test.signup", """{"name":"Ada","age":36}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("\"Welcome, Ada\"", await response.Content.ReadAsStringAsync());

        HttpResponseMessage quote = await Post("failer", "test.quote", """{"sku":"B-1"}""");
        Assert.Equal(HttpStatusCode.OK, quote.StatusCode);
        JsonElement q = JsonDocument.Parse(await quote.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("B-1", q.GetProperty("sku").GetString());
        Assert.Equal(3, q.GetProperty("quantity").GetInt32());
        Assert.Equal(2, q.GetProperty("tags").GetArrayLength());
    }

    [Fact]
    public async Task ContractViolation_Is400_NamingTheFieldAndRule()
    {
        JsonElement problem = await Problems.Expect(await Post("registry", "test.signup", """{"name":"Ada","age":12}"""), HttpStatusCode.BadRequest, "contract-violation");
        Assert.Equal("age", problem.GetProperty("field").GetString());
        Assert.Contains("range", problem.GetProperty("rule").GetString(), StringComparison.Ordinal);
        Assert.Contains("12", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"name\":\"Ada\",\"age\":", "line 1")]
    [InlineData("{\"name\":\"Ada\",\"age\":\"old\"}", "$.age")]
    [InlineData("[1,2]", "test.signup")]
    [InlineData("null", "null")]
    [InlineData("", "test.signup")]
    public async Task MalformedBody_Is400BadBody_SayingWhere(string body, string mentions)
    {
        JsonElement problem = await Problems.Expect(await Post("registry", "test.signup", body), HttpStatusCode.BadRequest, "bad-body");
        Assert.Contains(mentions, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyThatIsNotJson_Is415_AndTooLarge_Is413()
    {
        using var text = new StringContent("name=Ada", Encoding.UTF8, "text/plain");
        await Problems.Expect(await _http.PostAsync("/api/registry/test.signup", text), HttpStatusCode.UnsupportedMediaType, "bad-body");
        await Problems.Expect(await Post("registry", "test.signup", "{\"name\":\"" + new string('a', 5000) + "\",\"age\":30}"), HttpStatusCode.RequestEntityTooLarge, "bad-body");
    }

    [Fact]
    public async Task UnknownServiceOrContract_Is404()
    {
        await Problems.Expect(await Post("nobody", "test.signup", """{"name":"Ada","age":30}"""), HttpStatusCode.NotFound, "no-such-service");
        JsonElement contract = await Problems.Expect(await Post("registry", "test.nonesuch", "{}"), HttpStatusCode.NotFound, "no-such-contract");
        Assert.Contains("openapi.json", contract.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoAnswerBeforeTheDeadline_Is504()
        => await Problems.Expect(await Post("sleeper", "test.sleep", """{"ms":0}"""), HttpStatusCode.GatewayTimeout, "timeout");

    [Theory]
    [InlineData("unauthenticated", HttpStatusCode.Unauthorized)]
    [InlineData("session-expired", HttpStatusCode.Unauthorized)]
    [InlineData("session-revoked", HttpStatusCode.Unauthorized)]
    [InlineData("forbidden", HttpStatusCode.Forbidden)]
    [InlineData("node-unreachable", HttpStatusCode.ServiceUnavailable)]
    [InlineData("mailbox-full", HttpStatusCode.ServiceUnavailable)]
    [InlineData("bad-request", HttpStatusCode.BadRequest)]
    [InlineData("out-of-stock", HttpStatusCode.InternalServerError)]
    public async Task ErrorCodes_MapToTheirStatus(string code, HttpStatusCode status)
    {
        JsonElement problem = await Problems.Expect(await Post("failer", "test.fail", $$"""{"code":"{{code}}"}"""), status, code);
        Assert.Contains("on purpose", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthorizationThatIsNotBearer_Is401()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/registry/test.signup")
        {
            Content = new StringContent("""{"name":"Ada","age":30}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", "YWRhOnNlY3JldA==");
        await Problems.Expect(await _http.SendAsync(request), HttpStatusCode.Unauthorized, "unauthenticated");

        using var bearer = new HttpRequestMessage(HttpMethod.Post, "/api/registry/test.signup")
        {
            Content = new StringContent("""{"name":"Ada","age":30}""", Encoding.UTF8, "application/json"),
        };
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "token-ada");
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(bearer)).StatusCode);
    }

    [Fact]
    public async Task OpenApiDocument_ListsEveryContractWithItsSchemas()
    {
        HttpResponseMessage response = await _http.GetAsync("/api/openapi.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.StartsWith("3.1", doc.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        JsonElement paths = doc.GetProperty("paths");
        Assert.Equal(["/api/{service}/test.fail", "/api/{service}/test.quote", "/api/{service}/test.signup", "/api/{service}/test.sleep"], paths.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray());
        JsonElement signup = doc.GetProperty("components").GetProperty("schemas").GetProperty("test.signup.request").GetProperty("properties");
        Assert.Equal("string", signup.GetProperty("name").GetProperty("type").GetString());
        Assert.Equal("integer", signup.GetProperty("age").GetProperty("type").GetString());
        JsonElement quote = doc.GetProperty("components").GetProperty("schemas").GetProperty("test.quote.response").GetProperty("properties");
        Assert.Equal("array", quote.GetProperty("tags").GetProperty("type").GetString());
        Assert.Equal("number", quote.GetProperty("price").GetProperty("type").GetString());
    }

    private async Task<HttpResponseMessage> Post(string service, string contract, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        return await _http.PostAsync($"/api/{service}/{contract}", content);
    }
}
