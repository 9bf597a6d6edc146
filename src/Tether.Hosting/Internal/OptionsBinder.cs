using System.Globalization;
using Microsoft.Extensions.Configuration;
using Tether.Nats;

namespace Tether.Hosting.Internal;

/// <summary>
/// Binds the <c>Tether</c> section onto <see cref="NodeOptions"/> and <see cref="BrokerOptions"/> themselves. One table
/// lists every key with its flag, its parser and its range, so configuration, environment variables and
/// <c>tether node</c> flags share one set of names and one set of errors, each naming its key.
/// </summary>
internal static class OptionsBinder
{
    private static readonly Entry[] s_entries =
    [
        new("Name", "--name", "The node's name: ASCII letters, digits, '-' and '_' when it joins NATS. Empty picks one.",
            static (s, v, r) => s.Node = s.Node with { Name = v.Length == 0 ? null : r.NodeName(v) ?? s.Node.Name }),
        new("DefaultRequestTimeout", "--default-request-timeout", "The deadline of a request that names none (a duration: 30s, 500ms, 00:00:30).",
            static (s, v, r) => s.Node = s.Node with { DefaultRequestTimeout = r.Duration(v) ?? s.Node.DefaultRequestTimeout }),
        new("DefaultMailboxCapacity", "--mailbox-capacity", "The mailbox capacity of a target that names none (at least 1).",
            static (s, v, r) => s.Node = s.Node with { DefaultMailboxCapacity = r.Int(v, min: 1) ?? s.Node.DefaultMailboxCapacity }),
        new("Throughput", "--throughput", "How many messages a target handles in one go before it yields its thread (at least 1).",
            static (s, v, r) => s.Node = s.Node with { Throughput = r.Int(v, min: 1) ?? s.Node.Throughput }),
        new("DeadlineSweepInterval", "--deadline-sweep-interval", "How often overdue requests are looked for (a duration).",
            static (s, v, r) => s.Node = s.Node with { DeadlineSweepInterval = r.Duration(v) ?? s.Node.DeadlineSweepInterval }),
        new("ShutdownTimeout", "--shutdown-timeout", "On SIGTERM or Ctrl+C, how long in-flight work may drain before the node goes; the process exits within it, also when NATS is gone (a duration).",
            static (s, v, r) => s.ShutdownTimeout = r.Duration(v) ?? s.ShutdownTimeout),
        new("Adapters:Specs", "--contracts", "Contract spec files or directories (*.yaml, *.yml) the mailboxes enforce; a list, or comma-separated.",
            static (s, v, r) => s.Specs.AddRange(r.Paths(v)), IsList: true),
        new("Adapters:AllowUnregisteredContracts", "--allow-unregistered-contracts", "Skip specs whose message type this node has not registered (true or false).",
            static (s, v, r) => s.AllowUnregistered = r.Bool(v) ?? s.AllowUnregistered),
        new("Nats:Url", "--nats", "NATS server URLs, comma-separated; without it the node runs embedded.",
            static (s, v, r) => s.Url = v.Length == 0 ? null : v),
        new("Nats:Cluster", "--cluster", "The Tether cluster name: a token (ASCII letters, digits, '-', '_').",
            static (s, v, r) => s.Broker = s.Broker with { Cluster = r.Token(v) ?? s.Broker.Cluster }),
        new("Nats:User", "--nats-user", "User name for user/password authentication (needs Tether:Nats:Password).",
            static (s, v, r) => s.Broker = s.Broker with { User = v }),
        new("Nats:Password", "--nats-password", "Password for user/password authentication.",
            static (s, v, r) => s.Broker = s.Broker with { Password = v }),
        new("Nats:Token", "--nats-token", "Token authentication.",
            static (s, v, r) => s.Broker = s.Broker with { Token = v }),
        new("Nats:CredsFile", "--nats-creds", "A NATS credentials file (JWT and nkey seed).",
            static (s, v, r) => s.Broker = s.Broker with { CredsFile = r.File(v) }),
        new("Nats:NKeyFile", "--nats-nkey", "An nkey seed file.",
            static (s, v, r) => s.Broker = s.Broker with { NKeyFile = r.File(v) }),
        new("Nats:Tls", "--nats-tls", "Require TLS to the server (true or false).",
            static (s, v, r) => s.Broker = s.Broker with { Tls = r.Bool(v) ?? s.Broker.Tls }),
        new("Nats:TlsCaFile", "--nats-tls-ca", "A CA certificate file (PEM) for TLS; needs Tether:Nats:Tls = true.",
            static (s, v, r) => s.Broker = s.Broker with { TlsCaFile = r.File(v) }),
        new("Nats:HeartbeatInterval", "--nats-heartbeat-interval", "How often the node says it is alive (a duration).",
            static (s, v, r) => s.Broker = s.Broker with { HeartbeatInterval = r.Duration(v) ?? s.Broker.HeartbeatInterval }),
        new("Nats:FailureTimeout", "--nats-failure-timeout", "A peer silent this long is declared unreachable (a duration, longer than the heartbeat interval).",
            static (s, v, r) => s.Broker = s.Broker with { FailureTimeout = r.Duration(v) ?? s.Broker.FailureTimeout }),
        new("Nats:MaxFrameBytes", "--nats-max-frame-bytes", "The largest frame accepted from the wire, in bytes (at least 1024).",
            static (s, v, r) => s.Broker = s.Broker with { MaxFrameBytes = r.Int(v, min: 1024) ?? s.Broker.MaxFrameBytes }),
        new("Nats:FlowWindow", "--nats-flow-window", "Frames on their way to one node before it grants more credit (at least 64).",
            static (s, v, r) => s.Broker = s.Broker with { FlowWindow = r.Int(v, min: 64) ?? s.Broker.FlowWindow }),
        new("Nats:MaxPendingBytesPerNode", "--nats-max-pending-bytes", "Bytes that may wait for one other node before sends to it are dropped and counted (at least 65536).",
            static (s, v, r) => s.Broker = s.Broker with { MaxPendingBytesPerNode = r.Int(v, min: 64 * 1024) ?? s.Broker.MaxPendingBytesPerNode }),
        new("Nats:Exploration", "--nats-exploration", "The share of service requests sent to a random instance instead of the fastest (0 to 0.5).",
            static (s, v, r) => s.Broker = s.Broker with { Exploration = r.Double(v, 0, 0.5) ?? s.Broker.Exploration }),
        new("Nats:DurableTopics", "--nats-durable-topics", "Topics kept on JetStream (needs JetStream on the server); a list, or comma-separated.",
            static (s, v, r) => s.Topics.AddRange(r.Topics(v)), IsList: true),
        new("Nats:DurableTopicReplicas", "--nats-durable-topic-replicas", "How many servers of the NATS cluster keep the durable topics' stream (1 to 5; 3 on a three-server cluster).",
            static (s, v, r) => s.Broker = s.Broker with { DurableTopicReplicas = r.Int(v, min: 1, max: 5) ?? s.Broker.DurableTopicReplicas }),
        new("Nats:JetStreamDomain", "--nats-jetstream-domain", "The JetStream domain of the durable topics (the hub's, for a node behind a leaf-node sidecar without JetStream).",
            static (s, v, r) => s.Broker = s.Broker with { JetStreamDomain = v.Length == 0 ? null : r.Token(v) }),
        new("Http", "--http", "Serve /healthz, /readyz and /metrics on HOST:PORT, for example 0.0.0.0:8081 (tether node only).",
            static (s, v, r) => s.Http = v.Length == 0 ? null : v),
    ];

    /// <summary>The sections whose every key this binder owns; an unknown key there is an error. Other sections under Tether belong to others.</summary>
    private static readonly string[] s_ownedSections = ["Nats", "Adapters"];

    public static IReadOnlyList<TetherSetting> Settings { get; } =
        s_entries.Select(e => new TetherSetting($"{TetherOptions.Section}:{e.Path}", e.Flag, e.Description)).ToArray();

    public static TetherOptions Bind(IConfigurationSection section)
    {
        var state = new State();
        var errors = new List<string>();
        var natsKeys = new List<string>();
        foreach (Entry entry in s_entries)
        {
            var reporter = new Reporter($"{section.Path}:{entry.Path}", entry.Flag, errors);
            foreach (string value in Values(section, entry))
            {
                if (entry.Path.StartsWith("Nats:", StringComparison.Ordinal) && entry.Path != "Nats:Url")
                {
                    natsKeys.Add(reporter.Key);
                }

                entry.Apply(state, value.Trim(), reporter);
            }
        }

        CheckUnknownKeys(section, errors);
        CheckTogether(section.Path, state, natsKeys, errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Tether configuration is not valid:\n  " + string.Join("\n  ", errors));
        }

        return new TetherOptions
        {
            Node = state.Node,
            Nats = state.Url is null ? null : state.Broker with { Url = state.Url, DurableTopics = state.Topics.ToHashSet(StringComparer.Ordinal) },
            AdapterSpecs = state.Specs,
            AllowUnregisteredContracts = state.AllowUnregistered,
            Http = state.Http,
            ShutdownTimeout = state.ShutdownTimeout,
        };
    }

    private static IEnumerable<string> Values(IConfigurationSection section, Entry entry)
    {
        IConfigurationSection own = section.GetSection(entry.Path);
        if (entry.IsList)
        {
            // A flag or a plain value is comma-separated, and wins over an array from a file (it is set later); a JSON
            // array or Tether__Nats__DurableTopics__0 variables are children.
            if (own.Value is { } list)
            {
                return list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            }

            return own.GetChildren().Where(c => c.Value is not null).Select(c => c.Value!);
        }

        return own.Value is { } value ? [value] : [];
    }

    private static void CheckUnknownKeys(IConfigurationSection section, List<string> errors)
    {
        string[] known = s_entries.Select(e => e.Path).ToArray();
        foreach ((string key, string? value) in section.AsEnumerable(makePathsRelative: true))
        {
            if (value is null)
            {
                continue; // a section, not a setting
            }

            string[] parts = key.Split(':');
            bool owned = parts.Length == 1 || s_ownedSections.Contains(parts[0], StringComparer.OrdinalIgnoreCase);
            bool isKnown = known.Any(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase))
                || s_entries.Any(e => e.IsList && key.StartsWith(e.Path + ":", StringComparison.OrdinalIgnoreCase) && int.TryParse(key.AsSpan(e.Path.Length + 1), out _));
            if (owned && !isKnown)
            {
                string? near = known.OrderBy(k => Distance(k.ToUpperInvariant(), key.ToUpperInvariant())).FirstOrDefault();
                string hint = near is not null && Distance(near.ToUpperInvariant(), key.ToUpperInvariant()) <= Math.Max(2, key.Length / 4) ? $" (did you mean {section.Path}:{near}?)" : "";
                errors.Add($"{section.Path}:{key} is not a Tether setting{hint}; `tether node --help` lists them all.");
            }
        }
    }

    private static void CheckTogether(string prefix, State state, List<string> natsKeys, List<string> errors)
    {
        if (state.Url is null)
        {
            if (natsKeys.Count > 0)
            {
                errors.Add($"{string.Join(", ", natsKeys.Distinct())} set, but {prefix}:Nats:Url (--nats) is not: without a NATS URL the node runs embedded; set the URL or remove these.");
            }

            return;
        }

        BrokerOptions b = state.Broker;
        if (state.Node.Name is { } name && Names.WhyNotToken(name, $"{prefix}:Name") is { } why)
        {
            errors.Add($"{why} A node that joins NATS needs such a name.");
        }

        if (b.FailureTimeout <= b.HeartbeatInterval)
        {
            errors.Add($"{prefix}:Nats:FailureTimeout ({b.FailureTimeout}) must be longer than {prefix}:Nats:HeartbeatInterval ({b.HeartbeatInterval}).");
        }

        if (b.User is not null && b.Password is null)
        {
            errors.Add($"{prefix}:Nats:User is set but {prefix}:Nats:Password is not.");
        }

        if (b.TlsCaFile is not null && !b.Tls)
        {
            errors.Add($"{prefix}:Nats:TlsCaFile is set but {prefix}:Nats:Tls is not true: set it to use the CA file.");
        }
    }

    private static int Distance(string a, string b)
    {
        int[] previous = Enumerable.Range(0, b.Length + 1).ToArray();
        int[] current = new int[b.Length + 1];
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private sealed record Entry(string Path, string Flag, string Description, Action<State, string, Reporter> Apply, bool IsList = false);

    private sealed class State
    {
        public NodeOptions Node { get; set; } = new();

        public BrokerOptions Broker { get; set; } = new();

        public string? Url { get; set; }

        public List<string> Specs { get; } = [];

        public List<string> Topics { get; } = [];

        public bool AllowUnregistered { get; set; }

        public string? Http { get; set; } // read by `tether node` itself (its health and metrics listener), kept here so the key is known
        public TimeSpan ShutdownTimeout { get; set; } = TetherOptions.DefaultShutdownTimeout;
    }

    /// <summary>Parses one key's value; every error names the key and its flag.</summary>
    private sealed class Reporter(string key, string flag, List<string> errors)
    {
        public string Key => key;

        public TimeSpan? Duration(string text)
        {
            if (TryDuration(text, out TimeSpan value))
            {
                if (value > TimeSpan.Zero && value < TimeSpan.FromDays(1))
                {
                    return value;
                }

                Error($"{text} is out of range: a duration must be positive and under a day");
                return null;
            }

            Error($"'{text}' is not a duration: write 2s, 500ms, 1.5m, 1h or 00:00:02");
            return null;
        }

        public int? Int(string text, int min, int max = int.MaxValue)
        {
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
            {
                Error($"'{text}' is not a whole number");
                return null;
            }

            if (value < min)
            {
                Error($"must be at least {min}; it is {value}");
                return null;
            }

            if (value > max)
            {
                Error($"must be at most {max}; it is {value}");
                return null;
            }

            return value;
        }

        public double? Double(string text, double min, double max)
        {
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
            {
                Error($"'{text}' is not a number (write 0.1, with a dot)");
                return null;
            }

            if (value < min || value > max)
            {
                Error($"must be between {min} and {max}; it is {value}");
                return null;
            }

            return value;
        }

        public bool? Bool(string text)
        {
            if (bool.TryParse(text, out bool value))
            {
                return value;
            }

            Error($"'{text}' is neither true nor false");
            return null;
        }

        public string? Token(string text)
        {
            if (Names.IsToken(text))
            {
                return text;
            }

            Error($"\"{text}\" is not valid: use ASCII letters, digits, '-' and '_' only");
            return null;
        }

        public string? NodeName(string text)
        {
            if (text.Contains('/', StringComparison.Ordinal) || text.Any(char.IsWhiteSpace))
            {
                Error($"\"{text}\" is not valid: a node name has no '/' or spaces (and over NATS only ASCII letters, digits, '-' and '_')");
                return null;
            }

            return text;
        }

        public string? File(string text)
        {
            if (text.Length == 0)
            {
                return null;
            }

            if (!System.IO.File.Exists(text))
            {
                Error($"the file \"{text}\" does not exist");
                return null;
            }

            return text;
        }

        public IEnumerable<string> Paths(string text)
        {
            if (System.IO.File.Exists(text) || Directory.Exists(text))
            {
                return [text];
            }

            Error($"\"{text}\" is neither a file nor a directory");
            return [];
        }

        public IEnumerable<string> Topics(string text)
        {
            if (Names.IsDottedName(text))
            {
                return [text];
            }

            Error($"\"{text}\" is not a topic name: tokens of ASCII letters, digits, '-' and '_', joined by dots");
            return [];
        }

        private void Error(string what) => errors.Add($"{key} ({flag}): {what}.");

        private static bool TryDuration(string text, out TimeSpan value)
        {
            (string suffix, double scale)[] units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];
            foreach ((string suffix, double scale) in units)
            {
                if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                    && double.TryParse(text.AsSpan(0, text.Length - suffix.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out double amount)
                    && double.IsFinite(amount) && Math.Abs(amount * scale) < TimeSpan.MaxValue.TotalMilliseconds)
                {
                    value = TimeSpan.FromMilliseconds(amount * scale);
                    return true;
                }
            }

            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
        }
    }
}
