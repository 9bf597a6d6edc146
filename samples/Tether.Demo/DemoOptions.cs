namespace Tether.Demo;

/// <summary>The settings of the demo's services.</summary>
public sealed record DemoOptions
{
    /// <summary>The defaults: a SQLite file <c>tether-demo.db</c> in the current folder, 10,000 products.</summary>
    public static DemoOptions Default { get; } = new();

    /// <summary>The SQLite file the supplier uses (created and seeded on first start) when <see cref="PostgresConnection"/> is null.</summary>
    public string DatabasePath { get; init; } = "tether-demo.db";

    /// <summary>A PostgreSQL connection string (Npgsql form); when set, the supplier uses that database instead of the SQLite file.</summary>
    public string? PostgresConnection { get; init; }

    /// <summary>How many products a new database is seeded with (deterministic names, categories, prices and stock).</summary>
    public int SeedProducts { get; init; } = 10_000;

    /// <summary>The web node's port on 127.0.0.1 (0: a free port, see <see cref="DemoRun.Url"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>The address the web node listens on: 127.0.0.1 by default; 0.0.0.0 in a pod, where a Service reaches it.</summary>
    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>
    /// The PEM private key that signs session tokens (in Kubernetes: mounted from a Secret), read by every node; when
    /// null, the key is read from (or generated on first start into) the data folder beside <see cref="DatabasePath"/>.
    /// </summary>
    public string? SigningKeyFile { get; init; }

    internal void Validate()
    {
        if (Port is < 0 or > 65535)
        {
            throw new ArgumentException($"DemoOptions.Port must be between 0 and 65535; it is {Port}.");
        }

        if (PostgresConnection is null && string.IsNullOrWhiteSpace(DatabasePath))
        {
            throw new ArgumentException("DemoOptions.DatabasePath must name a file when no PostgresConnection is given.");
        }

        if (!System.Net.IPAddress.TryParse(ListenAddress, out _))
        {
            throw new ArgumentException($"DemoOptions.ListenAddress must be an IP address (127.0.0.1, 0.0.0.0); it is \"{ListenAddress}\".");
        }

        if (SeedProducts is < 1 or > 1_000_000)
        {
            throw new ArgumentException($"DemoOptions.SeedProducts must be between 1 and 1,000,000; it is {SeedProducts}.");
        }
    }
}
