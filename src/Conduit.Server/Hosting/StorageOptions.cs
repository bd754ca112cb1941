namespace Conduit.Server.Hosting;

public enum StorageKind
{
    Sqlite,
    PostgreSql,
}

/// <summary>Where partitions keep their journal and snapshots.</summary>
public sealed record StorageOptions(StorageKind Kind, string ConnectionString)
{
    /// <summary>
    /// The connection string everything of the node uses (journal, snapshot store, task history, health check). For
    /// PostgreSQL, the one given with <see cref="PostgresDefaults"/> filled in where it leaves them out.
    /// </summary>
    public string ConnectionString { get; init; } = Kind == StorageKind.PostgreSql ? PostgresDefaults.Apply(ConnectionString) : ConnectionString;

    /// <summary>A SQLite file <c>conduit.db</c> in <paramref name="dataDirectory"/> (created when missing).</summary>
    public static StorageOptions Sqlite(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var file = Path.GetFullPath(Path.Combine(dataDirectory, "conduit.db"));
        return new StorageOptions(StorageKind.Sqlite, $"Data Source={file}");
    }

    public static StorageOptions Postgres(string connectionString) => new(StorageKind.PostgreSql, connectionString);

    /// <summary>
    /// Where the task history lives (docs/results.md): the same PostgreSQL database; for SQLite a file of its own beside
    /// the journal's (<c>conduit-history.db</c> next to <c>conduit.db</c>), since a SQLite file has one writer at a time
    /// and the history's transactions would hold up the journal's.
    /// </summary>
    public string HistoryConnectionString
    {
        get
        {
            if (Kind == StorageKind.PostgreSql) return ConnectionString;
            var builder = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(ConnectionString);
            var file = builder.DataSource;
            builder.DataSource = Path.Combine(Path.GetDirectoryName(file) ?? "", Path.GetFileNameWithoutExtension(file) + "-history" + Path.GetExtension(file));
            return builder.ConnectionString;
        }
    }

    public string Describe() => Kind == StorageKind.Sqlite
        ? $"SQLite {ConnectionString["Data Source=".Length..]}"
        : $"PostgreSQL {new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString) { Password = null }}";
}

/// <summary>
/// Npgsql settings a node uses unless its connection string sets them (docs/configuration.md, "PostgreSQL connection").
/// Akka.Persistence.Sql sends the same few statements over and over: the journal's one-row INSERT, the recovery reads,
/// the snapshot store's; the task history its upsert.
/// </summary>
public static class PostgresDefaults
{
    /// <summary>
    /// <c>Max Auto Prepare</c>: Npgsql prepares a statement on a connection once it has run it 5 times, up to this many
    /// per connection, so PostgreSQL parses and plans it once instead of on every write. Npgsql's own default is 0 (off).
    /// One journal write then cost PostgreSQL a quarter less CPU (BENCHMARKS.md). 0 turns it off: needed behind a
    /// connection pooler in transaction mode that does not keep prepared statements (PgBouncer before 1.21).
    /// </summary>
    public const int MaxAutoPrepare = 20;

    /// <summary>
    /// <c>No Reset On Close</c>: a pooled connection is not reset (<c>DISCARD ALL</c>) when returned to the pool. The node
    /// keeps no session state on its connections (no <c>SET</c>, temporary tables or cursors; the one advisory lock,
    /// <see cref="History.TaskHistoryStore.EnsureListingIndexAsync"/>'s, is released on every path).
    /// </summary>
    public const bool NoResetOnClose = true;

    /// <summary><paramref name="connectionString"/> with every setting above that it does not name added.</summary>
    public static string Apply(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        var named = Named(connectionString);
        if (!named.Contains("maxautoprepare")) builder.MaxAutoPrepare = MaxAutoPrepare;
        if (!named.Contains("noresetonclose")) builder.NoResetOnClose = NoResetOnClose;
        return builder.ConnectionString;
    }

    /// <summary>The keys <paramref name="connectionString"/> names, lower case without spaces (Npgsql accepts both spellings).</summary>
    private static HashSet<string> Named(string connectionString)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return given.Keys.Cast<string>().Select(k => k.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant()).ToHashSet();
    }
}
