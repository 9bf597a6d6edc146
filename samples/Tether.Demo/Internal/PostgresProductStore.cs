using System.Data.Common;
using Npgsql;

namespace Tether.Demo.Internal;

/// <summary>The catalogue in PostgreSQL: a generated <c>tsvector</c> column with a GIN index for the text search.</summary>
internal sealed class PostgresProductStore : ProductStore
{
    // Any fixed number: every supplier takes this advisory lock while it creates or seeds the schema.
    private const long SchemaLock = 7_431_000_001;

    private PostgresProductStore(NpgsqlConnection connection, string description)
        : base(connection, description)
    {
    }

    public static PostgresProductStore Connect(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        string description = $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}";
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            connection.Open();
            return new PostgresProductStore(connection, description);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    // Byte order, as SQLite's BINARY collation: both databases page the same way.
    protected override string NameOrder => "name COLLATE \"C\"";

    protected override string SearchCountSql => "SELECT count(*) FROM products WHERE search @@ to_tsquery('simple', @q)";

    protected override string SearchPageSql =>
        "SELECT id, name, category, price_cents, stock FROM products WHERE search @@ to_tsquery('simple', @q) " +
        "ORDER BY name COLLATE \"C\", id LIMIT @limit OFFSET @offset";

    /// <summary>A tsquery of prefixes joined by AND; the words hold letters and digits only (see <see cref="ProductStore.Words"/>).</summary>
    protected override string TextQuery(string[] words) => string.Join(" & ", words.Select(static w => w + ":*"));

    protected override void CreateSchema(DbTransaction transaction)
    {
        Execute($"SELECT pg_advisory_xact_lock({SchemaLock})", transaction);
        Execute(
            """
            CREATE TABLE IF NOT EXISTS products (
                id bigint PRIMARY KEY,
                name text NOT NULL,
                category text NOT NULL,
                price_cents bigint NOT NULL,
                stock integer NOT NULL CHECK (stock >= 0),
                search tsvector GENERATED ALWAYS AS (to_tsvector('simple', name || ' ' || category)) STORED);
            CREATE INDEX IF NOT EXISTS products_by_name ON products (name COLLATE "C", id);
            CREATE INDEX IF NOT EXISTS products_search ON products USING gin (search);
            CREATE TABLE IF NOT EXISTS orders (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                product_id bigint NOT NULL REFERENCES products (id),
                quantity integer NOT NULL,
                unit_price_cents bigint NOT NULL,
                ship_name text NOT NULL,
                street text NOT NULL,
                city text NOT NULL,
                postal_code text NOT NULL,
                country text NOT NULL,
                placed_at_ms bigint NOT NULL);
            """,
            transaction);
    }
}
