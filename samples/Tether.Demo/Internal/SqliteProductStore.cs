using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Tether.Demo.Internal;

/// <summary>The catalogue in a SQLite file: WAL journal (readers never wait for the writer), FTS5 for the text search.</summary>
internal sealed class SqliteProductStore : ProductStore
{
    private SqliteProductStore(SqliteConnection connection, string path)
        : base(connection, $"SQLite {path}")
    {
    }

    public static SqliteProductStore Connect(string path)
    {
        string full = Path.GetFullPath(path);
        if (Path.GetDirectoryName(full) is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
        }

        // No pooling: when the supplier ends, its file is closed (a test can delete it; a second process sees no stale handle).
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30, // seconds a writer waits for another (a second supplier on the same file) before SQLITE_BUSY
        }.ToString());
        try
        {
            connection.Open();
            using SqliteCommand pragmas = connection.CreateCommand();
            pragmas.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";
            pragmas.ExecuteNonQuery();
            return new SqliteProductStore(connection, full);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    protected override string SearchCountSql => "SELECT count(*) FROM products_fts WHERE products_fts MATCH @q";

    protected override string SearchPageSql =>
        "SELECT id, name, category, price_cents, stock FROM products " +
        "WHERE id IN (SELECT rowid FROM products_fts WHERE products_fts MATCH @q) ORDER BY name, id LIMIT @limit OFFSET @offset";

    /// <summary>FTS5: each word quoted (letters and digits only, see <see cref="ProductStore.Words"/>) and a prefix; all must match.</summary>
    protected override string TextQuery(string[] words)
        => string.Join(' ', words.Select(static w => string.Create(CultureInfo.InvariantCulture, $"\"{w}\"*")));

    protected override void CreateSchema(DbTransaction transaction)
    {
        // BEGIN IMMEDIATE (Microsoft.Data.Sqlite's default) already holds the write lock: a second starter waits here.
        Execute(
            """
            CREATE TABLE IF NOT EXISTS products (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                category TEXT NOT NULL,
                price_cents INTEGER NOT NULL,
                stock INTEGER NOT NULL CHECK (stock >= 0));
            CREATE INDEX IF NOT EXISTS products_by_name ON products (name, id);
            CREATE VIRTUAL TABLE IF NOT EXISTS products_fts USING fts5(name, category, content='products', content_rowid='id');
            CREATE TABLE IF NOT EXISTS orders (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                product_id INTEGER NOT NULL REFERENCES products (id),
                quantity INTEGER NOT NULL,
                unit_price_cents INTEGER NOT NULL,
                ship_name TEXT NOT NULL,
                street TEXT NOT NULL,
                city TEXT NOT NULL,
                postal_code TEXT NOT NULL,
                country TEXT NOT NULL,
                placed_at_ms INTEGER NOT NULL);
            """,
            transaction);
    }

    /// <summary>Names and categories never change after seeding, so the external-content index is built once, here.</summary>
    protected override void AfterSeed(DbTransaction transaction)
        => Execute("INSERT INTO products_fts (products_fts) VALUES ('rebuild')", transaction);
}
