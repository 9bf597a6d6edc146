using Microsoft.Extensions.Configuration;
using Tether.Nats;

namespace Tether.Hosting.Tests;

/// <summary>Configuration binds onto the library's own option records, and every bad value is reported by its key.</summary>
public sealed class BindingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tether-hosting-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TetherOptions Bind(params (string Key, string Value)[] settings)
        => TetherOptions.Bind(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build());

    private static string Fails(params (string Key, string Value)[] settings)
        => Assert.Throws<InvalidOperationException>(() => Bind(settings)).Message;

    [Fact]
    public void Bind_Nothing_TheLibraryDefaultsAndEmbedded()
    {
        TetherOptions options = Bind();

        Assert.Equal(new NodeOptions(), options.Node);
        Assert.Null(options.Nats);
        Assert.Empty(options.AdapterSpecs);
    }

    [Fact]
    public void Bind_EverySetting_ReachesTheOptionRecords()
    {
        string creds = Path.Join(_dir, "node.creds");
        string ca = Path.Join(_dir, "ca.pem");
        File.WriteAllText(creds, "x");
        File.WriteAllText(ca, "x");
        Directory.CreateDirectory(Path.Join(_dir, "contracts"));

        TetherOptions options = Bind(
            ("Tether:Name", "orders-1"),
            ("Tether:DefaultRequestTimeout", "10s"),
            ("Tether:DefaultMailboxCapacity", "500"),
            ("Tether:Throughput", "64"),
            ("Tether:DeadlineSweepInterval", "50ms"),
            ("Tether:Adapters:Specs:0", Path.Join(_dir, "contracts")),
            ("Tether:Adapters:AllowUnregisteredContracts", "true"),
            ("Tether:Nats:Url", "nats://127.0.0.1:4222"),
            ("Tether:Nats:Cluster", "shop"),
            ("Tether:Nats:User", "u"),
            ("Tether:Nats:Password", "p"),
            ("Tether:Nats:Token", "t"),
            ("Tether:Nats:CredsFile", creds),
            ("Tether:Nats:NKeyFile", creds),
            ("Tether:Nats:Tls", "true"),
            ("Tether:Nats:TlsCaFile", ca),
            ("Tether:Nats:HeartbeatInterval", "00:00:01"),
            ("Tether:Nats:FailureTimeout", "1.5m"),
            ("Tether:Nats:MaxFrameBytes", "65536"),
            ("Tether:Nats:Exploration", "0.25"),
            ("Tether:Nats:FlowWindow", "4096"),
            ("Tether:Nats:MaxPendingBytesPerNode", "1048576"),
            ("Tether:Nats:DurableTopics:0", "prices"),
            ("Tether:Nats:DurableTopics:1", "orders.placed"),
            ("Tether:Nats:DurableTopicReplicas", "3"),
            ("Tether:Nats:JetStreamDomain", "hub"),
            ("Tether:Http", "0.0.0.0:8081"),
            ("Tether:ShutdownTimeout", "4s"));

        Assert.Equal("orders-1", options.Node.Name);
        Assert.Equal(TimeSpan.FromSeconds(4), options.ShutdownTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Node.DefaultRequestTimeout);
        Assert.Equal(500, options.Node.DefaultMailboxCapacity);
        Assert.Equal(64, options.Node.Throughput);
        Assert.Equal(TimeSpan.FromMilliseconds(50), options.Node.DeadlineSweepInterval);
        Assert.Equal([Path.Join(_dir, "contracts")], options.AdapterSpecs);
        Assert.True(options.AllowUnregisteredContracts);
        BrokerOptions nats = Assert.IsType<BrokerOptions>(options.Nats);
        Assert.Equal("nats://127.0.0.1:4222", nats.Url);
        Assert.Equal("shop", nats.Cluster);
        Assert.Equal(("u", "p", "t"), (nats.User, nats.Password, nats.Token));
        Assert.Equal((creds, creds, ca), (nats.CredsFile, nats.NKeyFile, nats.TlsCaFile));
        Assert.True(nats.Tls);
        Assert.Equal(TimeSpan.FromSeconds(1), nats.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromSeconds(90), nats.FailureTimeout);
        Assert.Equal(65536, nats.MaxFrameBytes);
        Assert.Equal(0.25, nats.Exploration);
        Assert.Equal((4096, 1048576), (nats.FlowWindow, nats.MaxPendingBytesPerNode));
        Assert.Equal(["orders.placed", "prices"], nats.DurableTopics.Order(StringComparer.Ordinal));
        Assert.Equal((3, "hub"), (nats.DurableTopicReplicas, nats.JetStreamDomain));
        Assert.Equal("0.0.0.0:8081", options.Http);
    }

    [Fact]
    public void Settings_EveryKeyHasADistinctFlagAndIsBound()
    {
        IReadOnlyList<TetherSetting> settings = TetherOptions.Settings;

        Assert.Equal(settings.Count, settings.Select(s => s.Flag).Distinct().Count());
        Assert.All(settings, s => Assert.StartsWith("Tether:", s.Key, StringComparison.Ordinal));
        Assert.All(settings, s => Assert.StartsWith("--", s.Flag, StringComparison.Ordinal));
        Assert.Equal(27, settings.Count); // the test above sets each one
    }

    [Fact]
    public void Bind_CommaSeparatedList_SplitAndWinsOverAnArray()
    {
        TetherOptions options = Bind(
            ("Tether:Nats:Url", "nats://127.0.0.1:4222"),
            ("Tether:Nats:DurableTopics", "a, b.c"),
            ("Tether:Nats:DurableTopics:0", "ignored"));

        Assert.Equal(["a", "b.c"], options.Nats!.DurableTopics.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("Tether:DefaultRequestTimeout", "5 seconds", "is not a duration")]
    [InlineData("Tether:DefaultRequestTimeout", "-1s", "must be positive")]
    [InlineData("Tether:DefaultRequestTimeout", "0", "must be positive")]
    [InlineData("Tether:DefaultMailboxCapacity", "lots", "is not a whole number")]
    [InlineData("Tether:DefaultMailboxCapacity", "0", "must be at least 1")]
    [InlineData("Tether:Throughput", "2.5", "is not a whole number")]
    [InlineData("Tether:DeadlineSweepInterval", "soon", "is not a duration")]
    [InlineData("Tether:ShutdownTimeout", "0s", "must be positive")]
    [InlineData("Tether:Name", "my node", "no '/' or spaces")]
    [InlineData("Tether:Adapters:Specs", "/no/such/specs", "neither a file nor a directory")]
    [InlineData("Tether:Adapters:AllowUnregisteredContracts", "yes", "neither true nor false")]
    [InlineData("Tether:Nats:Cluster", "a.b", "ASCII letters, digits")]
    [InlineData("Tether:Nats:CredsFile", "/no/such.creds", "does not exist")]
    [InlineData("Tether:Nats:NKeyFile", "/no/such.nk", "does not exist")]
    [InlineData("Tether:Nats:Tls", "on", "neither true nor false")]
    [InlineData("Tether:Nats:TlsCaFile", "/no/ca.pem", "does not exist")]
    [InlineData("Tether:Nats:HeartbeatInterval", "tomorrow", "is not a duration")]
    [InlineData("Tether:Nats:FailureTimeout", "2 days", "is not a duration")]
    [InlineData("Tether:Nats:MaxFrameBytes", "512", "must be at least 1024")]
    [InlineData("Tether:Nats:Exploration", "0.9", "between 0 and 0.5")]
    [InlineData("Tether:Nats:DurableTopicReplicas", "7", "must be at most 5")]
    [InlineData("Tether:Nats:JetStreamDomain", "a.b", "ASCII letters, digits")]
    [InlineData("Tether:Nats:Exploration", "0,1", "is not a number")]
    [InlineData("Tether:Nats:DurableTopics", "a..b", "is not a topic name")]
    public void Bind_BadValue_ErrorNamesTheKeyAndFlag(string key, string value, string expected)
    {
        string message = Fails(("Tether:Nats:Url", "nats://127.0.0.1:4222"), (key, value));

        string flag = TetherOptions.Settings.Single(s => s.Key == key).Flag;
        Assert.Contains($"{key} ({flag}): ", message, StringComparison.Ordinal);
        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_SeveralBadValues_EveryOneListed()
    {
        string message = Fails(("Tether:DefaultMailboxCapacity", "0"), ("Tether:Throughput", "x"), ("Tether:DefaultRequestTimeout", "y"));

        Assert.Contains("Tether:DefaultMailboxCapacity", message, StringComparison.Ordinal);
        Assert.Contains("Tether:Throughput", message, StringComparison.Ordinal);
        Assert.Contains("Tether:DefaultRequestTimeout", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Tether:DefaultRequestTimout", "Tether:DefaultRequestTimeout")]
    [InlineData("Tether:Nats:Clustr", "Tether:Nats:Cluster")]
    [InlineData("Tether:Adapters:Spec", "Tether:Adapters:Specs")]
    public void Bind_MisspelledKey_NamedWithASuggestion(string key, string suggestion)
    {
        string message = Fails((key, "x"));

        Assert.Contains($"{key} is not a Tether setting (did you mean {suggestion}?)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_OtherComponentsSection_LeftAlone()
    {
        TetherOptions options = Bind(("Tether:Sessions:Store", "sqlite"));

        Assert.Null(options.Nats);
    }

    [Fact]
    public void Bind_NatsSettingsWithoutUrl_NamesThemAndTheUrl()
    {
        string message = Fails(("Tether:Nats:Cluster", "shop"));

        Assert.Contains("Tether:Nats:Cluster set, but Tether:Nats:Url (--nats) is not", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Tether:Name", "orders.1", "Tether:Name \"orders.1\" is not valid")]
    [InlineData("Tether:Nats:FailureTimeout", "400ms", "Tether:Nats:FailureTimeout (00:00:00.4000000) must be longer than Tether:Nats:HeartbeatInterval")]
    [InlineData("Tether:Nats:User", "u", "Tether:Nats:User is set but Tether:Nats:Password is not")]
    public void Bind_NatsRulesAcrossKeys_NameTheKeys(string key, string value, string expected)
    {
        string message = Fails(("Tether:Nats:Url", "nats://127.0.0.1:4222"), (key, value));

        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_TlsCaWithoutTls_NamesBoth()
    {
        string ca = Path.Join(_dir, "ca.pem");
        File.WriteAllText(ca, "x");

        string message = Fails(("Tether:Nats:Url", "nats://127.0.0.1:4222"), ("Tether:Nats:TlsCaFile", ca));

        Assert.Contains("Tether:Nats:TlsCaFile is set but Tether:Nats:Tls is not true", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_EmbeddedNameWithDots_Allowed()
        => Assert.Equal("orders.1", Bind(("Tether:Name", "orders.1")).Node.Name);
}
