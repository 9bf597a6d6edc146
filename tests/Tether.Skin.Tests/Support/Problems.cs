using System.Net;
using System.Text.Json;

namespace Tether.Skin.Tests.Support;

/// <summary>Reads a gateway error: the status, <c>application/problem+json</c>, and the code it names.</summary>
internal static class Problems
{
    public static async Task<JsonElement> Expect(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        JsonElement problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }
}
