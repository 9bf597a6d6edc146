using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tether.Sessions;

namespace Tether.Demo.Tests;

/// <summary>The demo's HTTP gateway over real HTTP: placing an order needs a session with the desk's right.</summary>
public sealed class DemoGatewayTests
{
    [Fact]
    public async Task PlaceOrder_NoSession401_SessionWithoutTheRight403_DemoUser200()
    {
        await using DemoDeployment demo = await DemoDeployment.EmbeddedAsync();
        await demo.Web.Sessions!.Users.CreateUserAsync("guest", "guest-password-1", ["something.else"], workFactor: 4);
        Product product = await SupplierTests.FirstWithStock(demo.WebNode, 1);
        string body = JsonSerializer.Serialize(new PlaceOrder(product.Id, 1, Shared.Address), new JsonSerializerOptions(JsonSerializerDefaults.Web));
        using var http = new HttpClient { BaseAddress = demo.Url, Timeout = Waits.Deadline };

        async Task<(HttpStatusCode Status, JsonElement Body)> Order(string? user, string? password)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/orders/demo.place-order") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            if (user is not null)
            {
                LoginResult login = await demo.WebNode.Request(DemoApp.SessionsService, new Login(user, password!)).Within($"{user}'s login");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", login.Token);
            }

            using HttpResponseMessage response = await http.SendAsync(request);
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
        }

        (HttpStatusCode anonymous, JsonElement refused) = await Order(null, null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous);
        Assert.Equal(ErrorCodes.Unauthenticated, refused.GetProperty("code").GetString());

        (HttpStatusCode guest, JsonElement forbidden) = await Order("guest", "guest-password-1");
        Assert.Equal(HttpStatusCode.Forbidden, guest);
        Assert.Contains(DemoApp.OrderRight, forbidden.GetProperty("detail").GetString(), StringComparison.Ordinal);

        (HttpStatusCode ok, JsonElement receipt) = await Order(DemoApp.DemoUser, DemoApp.DemoPassword);
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(product.Stock - 1, receipt.GetProperty("stockLeft").GetInt32()); // only the demo user's order was placed
    }
}
