using Npgsql;

namespace Conduit.Bench;

/// <summary>Reads PostgreSQL's settings and counters: machine facts for the report and journal figures for the profile.</summary>
public sealed class PgProbe(BenchConfig config)
{
    public static readonly string[] Settings =
    [
        "server_version", "fsync", "synchronous_commit", "wal_sync_method", "full_page_writes", "commit_delay",
        "shared_buffers", "max_wal_size", "checkpoint_timeout", "max_connections",
    ];

    public async Task<List<(string Name, string Value)>> SettingsAsync()
    {
        await using var c = new NpgsqlConnection(config.AdminConnectionString);
        await c.OpenAsync();
        var list = new List<(string, string)>();
        foreach (var s in Settings)
        {
            await using var cmd = new NpgsqlCommand($"SHOW {s}", c);
            list.Add((s, (string)(await cmd.ExecuteScalarAsync())!));
        }
        return list;
    }

    /// <summary>The database whose journal <see cref="ReadAsync"/> counts events in. Defaults to <c>conduit</c>.</summary>
    public string JournalDatabase { get; set; } = "conduit";

    public Task CreateDatabasesAsync() => CreateDatabasesAsync("conduit", "baseline");

    /// <summary>Creates the databases that do not exist yet (a node creates its journal tables itself).</summary>
    public async Task CreateDatabasesAsync(params string[] databases)
    {
        await using var c = new NpgsqlConnection(config.AdminConnectionString);
        await c.OpenAsync();
        foreach (var db in databases)
        {
            await using var exists = new NpgsqlCommand($"SELECT 1 FROM pg_database WHERE datname = '{db}'", c);
            if (await exists.ExecuteScalarAsync() is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE {db}", c);
                await create.ExecuteNonQueryAsync();
            }
        }
    }

    /// <summary>A point-in-time reading; the difference of two is what a measurement cost.</summary>
    public sealed record Reading(long JournalEvents, long JournalRows, long Commits, long WalBytes);

    public async Task<Reading> ReadAsync()
    {
        await using var c = new NpgsqlConnection(config.AdminConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(
            "SELECT (SELECT sum(xact_commit)::bigint FROM pg_stat_database WHERE datname = 'baseline' OR datname LIKE 'conduit%'), " +
            "pg_current_wal_lsn() - '0/0'::pg_lsn", c);
        long commits, wal;
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            await r.ReadAsync();
            commits = r.GetInt64(0);
            wal = (long)r.GetDecimal(1);
        }
        var (events, rows) = await JournalAsync();
        return new Reading(events, rows, commits, wal);
    }

    /// <summary>Highest journal ordering (events ever written) and live rows, in <see cref="JournalDatabase"/>.</summary>
    public async Task<(long Events, long Rows)> JournalAsync()
    {
        await using var c = new NpgsqlConnection(config.ConduitConnectionStringFor(JournalDatabase));
        await c.OpenAsync();
        try
        {
            await using var cmd = new NpgsqlCommand("SELECT coalesce(max(ordering), 0), count(*) FROM journal", c);
            await using var r = await cmd.ExecuteReaderAsync();
            await r.ReadAsync();
            return (r.GetInt64(0), r.GetInt64(1));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return (0, 0);
        }
    }

    public async Task<long> RelationBytesAsync(string connectionString, string table)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand($"SELECT pg_total_relation_size('{table}')", c);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
