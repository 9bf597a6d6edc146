namespace Tether.Cli.Tests;

/// <summary>
/// Bad input to every verb ends in a clear message naming what is wrong and where, with exit code 2 (usage) or 1,
/// never a stack trace. Each test runs the real command line in a process of its own.
/// </summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TempTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private (int ExitCode, string Stdout, string Stderr) Run(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        (int code, string stdout, string stderr) = CliProcess.Run(_tree.Root, environment, args);
        string all = stdout + stderr;
        Assert.DoesNotContain("   at ", all, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", all, StringComparison.Ordinal);
        return (code, stdout, stderr);
    }

    private (int ExitCode, string Stdout, string Stderr) Run(params string[] args) => Run(null, args);

    private void WriteFile(string name, string text) => _tree.Write(name, System.Text.Encoding.UTF8.GetBytes(text));

    [Fact]
    public void ContractsCheck_UnclosedFlowSequence_PositionedErrorExitOne()
    {
        WriteFile("bad.yaml", "message: Orders.X\nrules:\n  - field: q\n    range: [1, 10\n  - field: y\n    required: true\n");
        string file = Path.Join(_tree.Root, "bad.yaml");

        (int code, string stdout, _) = Run("contracts", "check", file);

        Assert.Equal(1, code);
        Assert.Matches($@"(?m)^{System.Text.RegularExpressions.Regex.Escape(file)}:[4-6]:\d+: this is not valid YAML", stdout);
    }

    [Fact]
    public void ContractsCheck_MissingPath_NamedExitOne()
    {
        (int code, string stdout, _) = Run("contracts", "check", "nowhere.yaml");

        Assert.Equal(1, code);
        Assert.Contains("nowhere.yaml:1:1: no such file or directory", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ContractsExplain_UnclosedFlowSequence_PositionedErrorExitOne()
    {
        WriteFile("bad.yaml", "message: Orders.X\nrules: [ { field: q, range: { min: 1 }\n  - field: y\n");

        (int code, string stdout, _) = Run("contracts", "explain", "Orders.X", "--spec", "bad.yaml");

        Assert.Equal(1, code);
        Assert.Matches(@"(?m)^bad\.yaml:\d+:\d+: this is not valid YAML", stdout);
    }

    [Fact]
    public void Hash_MissingDirectory_NamedExitTwo()
    {
        (int code, _, string stderr) = Run("hash", "no-such-dir");

        Assert.Equal(2, code);
        Assert.Contains("'no-such-dir' is not a directory", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", "--jobs must be at least 1")]
    [InlineData("many", "many")]
    public void Hash_BadJobs_NamedExitNonZero(string jobs, string expected)
    {
        (int code, _, string stderr) = Run("hash", ".", "--jobs", jobs);

        Assert.NotEqual(0, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownVerb_NamedExitNonZero()
    {
        (int code, _, string stderr) = Run("hsah", ".");

        Assert.NotEqual(0, code);
        Assert.Contains("hsah", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_AppsettingsNotJson_NamesTheFileExitTwo()
    {
        WriteFile("appsettings.json", "{ \"Tether\": { \"Name\": \"a\", }\n");

        (int code, _, string stderr) = Run("node");

        Assert.Equal(2, code);
        Assert.Contains("appsettings.json", stderr, StringComparison.Ordinal);
        Assert.Contains("tether node:", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_ConfigFlagNotJson_NamesTheFileExitTwo()
    {
        WriteFile("node.json", "Tether: yes");

        (int code, _, string stderr) = Run("node", "--config", "node.json");

        Assert.Equal(2, code);
        Assert.Contains("node.json", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_MissingConfigFile_NamedExitTwo()
    {
        (int code, _, string stderr) = Run("node", "--config", "missing.json");

        Assert.Equal(2, code);
        Assert.Contains("--config missing.json: the file does not exist", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_MissingModule_NamedExitTwo()
    {
        (int code, _, string stderr) = Run("node", "--module", "Nothing.dll");

        Assert.Equal(2, code);
        Assert.Contains("--module Nothing.dll", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_ModuleNotAnAssembly_NamedExitTwo()
    {
        WriteFile("Fake.dll", "not a PE file");

        (int code, _, string stderr) = Run("node", "--module", "Fake.dll");

        Assert.Equal(2, code);
        Assert.Contains("--module Fake.dll", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Tether:DefaultMailboxCapacity", "lots")]
    [InlineData("Tether:DefaultRequestTimeout", "5 seconds")]
    [InlineData("Tether:DefaultRequestTimeout", "-00:00:01")]
    [InlineData("Tether:Nats:FailureTimeout", "soon")]
    public void Node_BadSettingInAppsettings_NamesTheKeyExitTwo(string key, string value)
    {
        string[] parts = key.Split(':');
        string json = $"\"{parts[^1]}\": \"{value}\"";
        for (int i = parts.Length - 2; i >= 0; i--)
        {
            json = $"\"{parts[i]}\": {{ {json} }}";
        }

        WriteFile("appsettings.json", "{ " + json + " }");

        (int code, _, string stderr) = Run("node", "--nats", "nats://127.0.0.1:1");

        Assert.Equal(2, code);
        Assert.Contains(key, stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Tether__DefaultMailboxCapacity", "0", "Tether:DefaultMailboxCapacity")]
    [InlineData("Tether__Nats__HeartbeatInterval", "tomorrow", "Tether:Nats:HeartbeatInterval")]
    public void Node_BadSettingInEnvironment_NamesTheKeyExitTwo(string variable, string value, string key)
    {
        (int code, _, string stderr) = Run(new Dictionary<string, string> { [variable] = value }, "node", "--nats", "nats://127.0.0.1:1");

        Assert.Equal(2, code);
        Assert.Contains(key, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_NameFlagNotAToken_NamesTheKeyExitTwo()
    {
        (int code, _, string stderr) = Run("node", "--name", "bad name!", "--nats", "nats://127.0.0.1:1");

        Assert.Equal(2, code);
        Assert.Contains("Tether:Name", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--nats-failure-timeout", "soon", "Tether:Nats:FailureTimeout (--nats-failure-timeout): 'soon' is not a duration")]
    [InlineData("--nats-exploration", "0.9", "Tether:Nats:Exploration (--nats-exploration): must be between 0 and 0.5")]
    [InlineData("--nats-max-frame-bytes", "1k", "Tether:Nats:MaxFrameBytes (--nats-max-frame-bytes): '1k' is not a whole number")]
    [InlineData("--nats-durable-topics", "a..b", "Tether:Nats:DurableTopics (--nats-durable-topics): \"a..b\" is not a topic name")]
    [InlineData("--nats-tls", "maybe", "Tether:Nats:Tls (--nats-tls): 'maybe' is neither true nor false")]
    [InlineData("--throughput", "0", "Tether:Throughput (--throughput): must be at least 1")]
    [InlineData("--contracts", "no-such-dir", "Tether:Adapters:Specs (--contracts): \"no-such-dir\" is neither a file nor a directory")]
    public void Node_BadFlag_NamesTheKeyAndFlagExitTwo(string flag, string value, string expected)
    {
        (int code, _, string stderr) = Run("node", "--nats", "nats://127.0.0.1:1", flag, value);

        Assert.Equal(2, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_UnknownFlag_NamedExitNonZero()
    {
        (int code, _, string stderr) = Run("node", "--nats-url", "nats://127.0.0.1:1");

        Assert.NotEqual(0, code);
        Assert.Contains("--nats-url", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_MisspelledKeyInAppsettings_SuggestedExitTwo()
    {
        WriteFile("appsettings.json", "{ \"Tether\": { \"Nats\": { \"Url\": \"nats://127.0.0.1:1\", \"FailureTimout\": \"3s\" } } }");

        (int code, _, string stderr) = Run("node");

        Assert.Equal(2, code);
        Assert.Contains("Tether:Nats:FailureTimout is not a Tether setting (did you mean Tether:Nats:FailureTimeout?)", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_SpecDirectoryWithBadYaml_PositionedErrorExitOne()
    {
        WriteFile("contracts/orders.yaml", "message: Orders.X\nrules:\n  - field: q\n    range: [1, 10\n  - field: y\n");

        (int code, _, string stderr) = Run("node", "--contracts", "contracts");

        Assert.Equal(1, code);
        Assert.Matches(@"orders\.yaml:\d+:\d+: this is not valid YAML", stderr);
    }

    [Fact]
    public void Node_UnreachableNats_NamesTheUrlExitOne()
    {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        (int code, _, string stderr) = Run("node", "--nats", "nats://127.0.0.1:1");

        Assert.Equal(1, code);
        Assert.Contains("could not connect to NATS at nats://127.0.0.1:1", stderr, StringComparison.Ordinal);
    }
}
