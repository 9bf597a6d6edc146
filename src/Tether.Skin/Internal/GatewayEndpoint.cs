using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Tether.Skin.Internal;

/// <summary>POST {prefix}/{service}/{contract} → a request to the service; errors as problem details.</summary>
internal sealed class GatewayEndpoint(Node node, GatewayOptions options, string prefix)
{
    private readonly Node _node = node;
    private readonly GatewayOptions _options = options;
    private readonly string _prefix = prefix.TrimEnd('/');
    private readonly JsonSerializerOptions _json = options.Json ?? GatewayContracts.DefaultJson;
    private readonly ILogger _logger = (node.Options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Tether.Skin.Gateway");
    private byte[]? _openApi;

    public async Task HandleAsync(HttpContext http, string service, string contract)
    {
        if (!_options.Contracts.TryGet(contract, out GatewayContract? accepted))
        {
            await Problem(http, service, contract, 404, "no-such-contract", $"The gateway accepts no contract \"{contract}\"; see {_prefix}/openapi.json for those it does.").ConfigureAwait(false);
            return;
        }

        if (http.Request.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            await Problem(http, service, contract, 415, "bad-body", $"The body must be JSON (Content-Type: application/json), not {http.Request.ContentType ?? "nothing"}.").ConfigureAwait(false);
            return;
        }

        if (http.Request.ContentLength > _options.MaxBodyBytes)
        {
            await Problem(http, service, contract, 413, "bad-body", $"The body may have at most {_options.MaxBodyBytes} bytes.").ConfigureAwait(false);
            return;
        }

        ReadOnlySequence<byte> body;
        PipeReader reader = http.Request.BodyReader;
        while (true)
        {
            ReadResult read = await reader.ReadAsync(http.RequestAborted).ConfigureAwait(false);
            if (read.Buffer.Length > _options.MaxBodyBytes)
            {
                reader.AdvanceTo(read.Buffer.End);
                await Problem(http, service, contract, 413, "bad-body", $"The body may have at most {_options.MaxBodyBytes} bytes.").ConfigureAwait(false);
                return;
            }

            if (read.IsCompleted)
            {
                body = read.Buffer;
                break;
            }

            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }

        object request;
        try
        {
            byte[] bytes = body.ToArray();
            reader.AdvanceTo(body.End);
            request = accepted.Read(bytes, _json);
        }
        catch (JsonException ex)
        {
            string where = ex.Path is { Length: > 0 } path ? $" at {path}" : "";
            string line = ex.LineNumber is { } l ? $" (line {l + 1}, byte {ex.BytePositionInLine + 1})" : "";
            await Problem(http, service, contract, 400, "bad-body", $"The body is not a valid {contract}{where}{line}: {ex.Message}").ConfigureAwait(false);
            return;
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            await Problem(http, service, contract, 400, "bad-body", $"The body could not be read as {contract}: {ex.Message}").ConfigureAwait(false);
            return;
        }

        string? session = null;
        string? authorization = http.Request.Headers.Authorization;
        if (authorization is not null)
        {
            if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || authorization.Length <= 7)
            {
                await Problem(http, service, contract, 401, ErrorCodes.Unauthenticated, "The Authorization header must be \"Bearer TOKEN\".").ConfigureAwait(false);
                return;
            }

            session = authorization[7..].Trim();
        }

        object? answer;
        try
        {
            answer = await accepted.Send(_node, service, request, _options.Timeout, session).ConfigureAwait(false);
        }
        catch (TetherException ex)
        {
            await Problem(http, service, contract, StatusFor(ex.Code), ex.Code, ex.Message, ex as ContractViolationException).ConfigureAwait(false);
            return;
        }

        SkinMetrics.GatewayRequests.Add(1, new KeyValuePair<string, object?>("status", 200));
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(http.Response.Body, answer, accepted.ResponseType, _json, http.RequestAborted).ConfigureAwait(false);
    }

    public IResult OpenApi(HttpContext http)
    {
        _openApi ??= BuildOpenApi();
        return Results.Bytes(_openApi, "application/json; charset=utf-8");
    }

    /// <summary>The HTTP status for an error code.</summary>
    public static int StatusFor(string code) => code switch
    {
        ErrorCodes.ContractViolation or ErrorCodes.BadRequest => 400,
        ErrorCodes.Unauthenticated or ErrorCodes.SessionExpired or ErrorCodes.SessionRevoked => 401,
        ErrorCodes.Forbidden => 403,
        ErrorCodes.NoSuchService or ErrorCodes.NoSuchTarget or ErrorCodes.NoHandler => 404,
        ErrorCodes.Timeout => 504,
        ErrorCodes.NodeUnreachable or ErrorCodes.NodeStopped or ErrorCodes.NodeStopping or ErrorCodes.MailboxFull => 503,
        _ => 500,
    };

    private async Task Problem(HttpContext http, string service, string contract, int status, string code, string detail, ContractViolationException? violation = null)
    {
        SkinMetrics.GatewayRequests.Add(1, new KeyValuePair<string, object?>("status", status));
        Log.GatewayError(_logger, service, contract, status, code, detail);
        var extensions = new Dictionary<string, object?> { ["code"] = code, ["service"] = service, ["contract"] = contract };
        if (violation is not null)
        {
            extensions["field"] = violation.Path;
            extensions["rule"] = violation.Rule;
            extensions["messageType"] = violation.MessageType;
        }

        await Results.Problem(
            statusCode: status,
            title: code,
            detail: detail,
            type: "urn:tether:error:" + code,
            extensions: extensions).ExecuteAsync(http).ConfigureAwait(false);
    }

    private byte[] BuildOpenApi()
    {
        var paths = new JsonObject();
        var schemas = new JsonObject();
        foreach (GatewayContract c in _options.Contracts.All)
        {
            string requestSchema = c.Name + ".request";
            string responseSchema = c.Name + ".response";
            schemas[requestSchema] = Schema(c.RequestType, 0);
            schemas[responseSchema] = Schema(c.ResponseType, 0);
            paths[$"{_prefix}/{{service}}/{c.Name}"] = new JsonObject
            {
                ["post"] = new JsonObject
                {
                    ["operationId"] = c.Name,
                    ["summary"] = $"Sends a {c.Name} request to the service named in the path.",
                    ["parameters"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "service",
                        ["in"] = "path",
                        ["required"] = true,
                        ["schema"] = new JsonObject { ["type"] = "string" },
                    }),
                    ["requestBody"] = new JsonObject
                    {
                        ["required"] = true,
                        ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = Ref(requestSchema) } },
                    },
                    ["responses"] = new JsonObject
                    {
                        ["200"] = new JsonObject
                        {
                            ["description"] = "The service's answer.",
                            ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = Ref(responseSchema) } },
                        },
                        ["400"] = ProblemResponse("contract-violation or bad-body"),
                        ["401"] = ProblemResponse("unauthenticated, session-expired or session-revoked"),
                        ["403"] = ProblemResponse("forbidden"),
                        ["404"] = ProblemResponse("no-such-service or no-such-contract"),
                        ["503"] = ProblemResponse("node-unreachable, node-stopping or mailbox-full"),
                        ["504"] = ProblemResponse("timeout"),
                    },
                },
            };
        }

        var doc = new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject { ["title"] = _options.Title, ["version"] = "1" },
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["schemas"] = schemas,
                ["securitySchemes"] = new JsonObject { ["session"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer" } },
            },
        };
        return JsonSerializer.SerializeToUtf8Bytes(doc, new JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonObject Ref(string schema) => new() { ["$ref"] = "#/components/schemas/" + schema };

    private static JsonObject ProblemResponse(string codes) => new()
    {
        ["description"] = codes,
        ["content"] = new JsonObject { ["application/problem+json"] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "object" } } },
    };

    /// <summary>A JSON schema of a CLR type, by its public properties (camelCase, as the gateway reads and writes them).</summary>
    private JsonNode Schema(Type type, int depth)
    {
        Type t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(string) || t == typeof(Guid) || t == typeof(Address))
        {
            return new JsonObject { ["type"] = "string" };
        }

        if (t == typeof(DateTime) || t == typeof(DateTimeOffset))
        {
            return new JsonObject { ["type"] = "string", ["format"] = "date-time" };
        }

        if (t == typeof(bool))
        {
            return new JsonObject { ["type"] = "boolean" };
        }

        if (t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(byte))
        {
            return new JsonObject { ["type"] = "integer" };
        }

        if (t == typeof(double) || t == typeof(float) || t == typeof(decimal))
        {
            return new JsonObject { ["type"] = "number" };
        }

        if (t.IsEnum)
        {
            return new JsonObject { ["type"] = "string", ["enum"] = new JsonArray([.. Enum.GetNames(t).Select(n => (JsonNode)n)]) };
        }

        if (depth > 4)
        {
            return new JsonObject { ["type"] = "object" };
        }

        Type? element = t.IsArray ? t.GetElementType() : t.GetInterfaces().Append(t)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
        if (element is not null)
        {
            return new JsonObject { ["type"] = "array", ["items"] = Schema(element, depth + 1) };
        }

        var properties = new JsonObject();
        foreach (System.Reflection.PropertyInfo p in t.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length == 0 && p.GetMethod is not null)
            {
                properties[_json.PropertyNamingPolicy?.ConvertName(p.Name) ?? p.Name] = Schema(p.PropertyType, depth + 1);
            }
        }

        return new JsonObject { ["type"] = "object", ["properties"] = properties };
    }
}
