using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Tether.Demo.Internal;

/// <summary>
/// The product, stock and order tables, over one ADO.NET connection. Only the <see cref="Supplier"/> target holds one,
/// so only one handler at a time uses it: no pool, no locks here. The SQL is shared; each database says how it builds its
/// schema and its text search (SQLite FTS5, PostgreSQL tsvector with a GIN index).
/// </summary>
internal abstract class ProductStore : IDisposable
{
    private const int SeedRowsPerStatement = 200;

    protected ProductStore(DbConnection connection, string description)
    {
        Connection = connection;
        Description = description;
    }

    /// <summary>What and where the database is, for people (no password).</summary>
    public string Description { get; }

    protected DbConnection Connection { get; }

    /// <summary>Opens the configured database, creates its schema and seeds it when it is empty.</summary>
    public static ProductStore Open(DemoOptions options, ILogger logger)
    {
        ProductStore store = options.PostgresConnection is { } postgres
            ? PostgresProductStore.Connect(postgres)
            : SqliteProductStore.Connect(options.DatabasePath);
        try
        {
            store.Prepare(options.SeedProducts, logger);
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    public ProductPage Search(string? text, int page, int pageSize)
    {
        string[] words = Words(text);
        int offset = checked(page * pageSize);
        int total;
        List<Product> items = new(pageSize);
        if (words.Length == 0)
        {
            total = (int)Scalar("SELECT count(*) FROM products");
            using DbCommand command = Command($"SELECT id, name, category, price_cents, stock FROM products ORDER BY {NameOrder}, id LIMIT @limit OFFSET @offset");
            Add(command, "limit", pageSize);
            Add(command, "offset", offset);
            ReadProducts(command, items);
        }
        else
        {
            string query = TextQuery(words);
            using (DbCommand count = Command(SearchCountSql))
            {
                Add(count, "q", query);
                total = (int)Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
            }

            using DbCommand command = Command(SearchPageSql);
            Add(command, "q", query);
            Add(command, "limit", pageSize);
            Add(command, "offset", offset);
            ReadProducts(command, items);
        }

        return new ProductPage([.. items], total, page, pageSize);
    }

    public Product? Get(long productId)
    {
        using DbCommand command = Command("SELECT id, name, category, price_cents, stock FROM products WHERE id = @id");
        Add(command, "id", productId);
        List<Product> found = new(1);
        ReadProducts(command, found);
        return found.Count == 0 ? null : found[0];
    }

    /// <summary>
    /// Takes <paramref name="quantity"/> from the product's stock and writes the order, in one transaction. The stock test
    /// and the decrement are one statement (<c>WHERE stock &gt;= @quantity</c>), so two orders for the last items cannot
    /// both succeed, on any number of connections.
    /// </summary>
    /// <exception cref="TetherException"><see cref="DemoErrors.UnknownProduct"/> or <see cref="DemoErrors.OutOfStock"/>; nothing changed.</exception>
    public OrderRecorded Record(long productId, int quantity, ShipTo shipTo, DateTimeOffset now)
    {
        using DbTransaction transaction = BeginWrite();
        int stockLeft;
        long priceCents;
        using (DbCommand take = Command("UPDATE products SET stock = stock - @quantity WHERE id = @id AND stock >= @quantity RETURNING stock, price_cents", transaction))
        {
            Add(take, "quantity", quantity);
            Add(take, "id", productId);
            using DbDataReader reader = take.ExecuteReader();
            if (!reader.Read())
            {
                reader.Close();
                transaction.Rollback();
                throw Refusal(productId, quantity);
            }

            stockLeft = reader.GetInt32(0);
            priceCents = reader.GetInt64(1);
        }

        long orderId;
        using (DbCommand insert = Command(
            "INSERT INTO orders (product_id, quantity, unit_price_cents, ship_name, street, city, postal_code, country, placed_at_ms) " +
            "VALUES (@product, @quantity, @price, @name, @street, @city, @postal, @country, @at) RETURNING id",
            transaction))
        {
            Add(insert, "product", productId);
            Add(insert, "quantity", quantity);
            Add(insert, "price", priceCents);
            Add(insert, "name", shipTo.Name ?? "");
            Add(insert, "street", shipTo.Street ?? "");
            Add(insert, "city", shipTo.City ?? "");
            Add(insert, "postal", shipTo.PostalCode ?? "");
            Add(insert, "country", shipTo.Country ?? "");
            Add(insert, "at", now.ToUnixTimeMilliseconds());
            orderId = Convert.ToInt64(insert.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        transaction.Commit();
        return new OrderRecorded(orderId, Money(priceCents), stockLeft);
    }

    public OrderList ListOrders(int limit)
    {
        long total = Scalar("SELECT count(*) FROM orders");
        using DbCommand command = Command(
            "SELECT o.id, o.product_id, p.name, o.quantity, o.unit_price_cents, o.ship_name, o.street, o.city, o.postal_code, o.country, o.placed_at_ms " +
            "FROM orders o JOIN products p ON p.id = o.product_id ORDER BY o.id DESC LIMIT @limit");
        Add(command, "limit", limit);
        List<OrderRow> rows = [];
        using DbDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            rows.Add(new OrderRow(
                reader.GetInt64(0),
                reader.GetInt64(1),
                reader.GetString(2),
                reader.GetInt32(3),
                Money(reader.GetInt64(4)),
                new ShipTo(reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetString(8), reader.GetString(9)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10))));
        }

        return new OrderList([.. rows], total);
    }

    public (int Products, long Orders) Counts() => ((int)Scalar("SELECT count(*) FROM products"), Scalar("SELECT count(*) FROM orders"));

    public void Dispose()
    {
        Connection.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The ORDER BY expression for names: the same byte order in every database, so pages agree.</summary>
    protected virtual string NameOrder => "name";

    /// <summary>Counts the products matching parameter <c>@q</c> (built by <see cref="TextQuery"/>).</summary>
    protected abstract string SearchCountSql { get; }

    /// <summary>One page of the products matching <c>@q</c>, ordered by name and id, with <c>@limit</c> and <c>@offset</c>.</summary>
    protected abstract string SearchPageSql { get; }

    /// <summary>The database's text query for words that must each begin a word of the name or category.</summary>
    protected abstract string TextQuery(string[] words);

    /// <summary>Creates what is missing of the schema, inside <paramref name="transaction"/>, holding whatever lock keeps two starters apart.</summary>
    protected abstract void CreateSchema(DbTransaction transaction);

    /// <summary>Brings the text index up to date after seeding.</summary>
    protected virtual void AfterSeed(DbTransaction transaction)
    {
    }

    protected virtual DbTransaction BeginWrite() => Connection.BeginTransaction();

    protected DbCommand Command(string sql, DbTransaction? transaction = null)
    {
        DbCommand command = Connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    protected static void Add(DbCommand command, string name, object value)
    {
        DbParameter parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    protected long Scalar(string sql, DbTransaction? transaction = null)
    {
        using DbCommand command = Command(sql, transaction);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    protected void Execute(string sql, DbTransaction? transaction = null)
    {
        using DbCommand command = Command(sql, transaction);
        command.ExecuteNonQuery();
    }

    /// <summary>The lower-cased letter-and-digit runs of <paramref name="text"/>: anything else separates words and is never part of SQL.</summary>
    internal static string[] Words(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        List<string> words = [];
        var word = new StringBuilder();
        foreach (char c in text)
        {
            if (char.IsLetterOrDigit(c))
            {
                word.Append(char.ToLowerInvariant(c));
            }
            else if (word.Length > 0)
            {
                words.Add(word.ToString());
                word.Clear();
            }
        }

        if (word.Length > 0)
        {
            words.Add(word.ToString());
        }

        return [.. words.Distinct(StringComparer.Ordinal).Take(8)];
    }

    private void Prepare(int seedProducts, ILogger logger)
    {
        using DbTransaction transaction = BeginWrite();
        CreateSchema(transaction);
        long existing = Scalar("SELECT count(*) FROM products", transaction);
        if (existing > 0)
        {
            transaction.Commit();
            DemoLog.DatabaseOpened(logger, Description, existing);
            return;
        }

        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int first = 0; first < seedProducts; first += SeedRowsPerStatement)
        {
            int count = Math.Min(SeedRowsPerStatement, seedProducts - first);
            var sql = new StringBuilder("INSERT INTO products (id, name, category, price_cents, stock) VALUES ");
            using DbCommand insert = Command("", transaction);
            for (int i = 0; i < count; i++)
            {
                int index = first + i;
                (string name, string category, long priceCents, int stock) = CatalogueSeed.Product(index);
                sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@i{i}, @n{i}, @c{i}, @p{i}, @s{i})");
                Add(insert, $"i{i}", (long)index + 1);
                Add(insert, $"n{i}", name);
                Add(insert, $"c{i}", category);
                Add(insert, $"p{i}", priceCents);
                Add(insert, $"s{i}", stock);
            }

            insert.CommandText = sql.ToString();
            insert.ExecuteNonQuery();
        }

        AfterSeed(transaction);
        transaction.Commit();
        DemoLog.DatabaseSeeded(logger, Description, seedProducts, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private TetherException Refusal(long productId, int quantity)
    {
        using DbCommand command = Command("SELECT stock, name FROM products WHERE id = @id");
        Add(command, "id", productId);
        using DbDataReader reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return new TetherException(DemoErrors.UnknownProduct, $"No product has the id {productId}.");
        }

        return new TetherException(
            DemoErrors.OutOfStock,
            $"Product {productId} ({reader.GetString(1)}) has {reader.GetInt32(0)} in stock; {quantity} were ordered. Nothing was recorded.");
    }

    private static void ReadProducts(DbCommand command, List<Product> into)
    {
        using DbDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            into.Add(new Product(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), Money(reader.GetInt64(3)), reader.GetInt32(4)));
        }
    }

    private static decimal Money(long cents) => cents / 100m;
}
