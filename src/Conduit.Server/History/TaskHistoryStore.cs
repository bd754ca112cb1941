using System.Data;
using System.Data.Common;
using Conduit.Server.Hosting;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Conduit.Server.History;

/// <summary>
/// The task history's table, beside the journal in the node's PostgreSQL database, or in a SQLite file of its own next to
/// the journal's (<see cref="StorageOptions.HistoryConnectionString"/>): one row per task
/// (<c>conduit_task_history</c>: status, payload, result, the delivery running now, the ended deliveries as lines of
/// text, times). A write folds a batch's changes into one upsert per task (<see cref="TaskRowChange"/>); on PostgreSQL
/// the whole batch is one statement over arrays. Writing a change twice (a retry after a failed write) is harmless
/// except for a repeated attempt line, which reads as one. Each operation has a deadline (<see cref="OperationTimeout"/>).
/// Rows are trimmed by <c>updated_at</c> once older than the retention (docs/results.md).
/// </summary>
internal sealed class TaskHistoryStore(StorageOptions storage)
{
    public const string TasksTable = "conduit_task_history";

    /// <summary>Longest any one read, write, trim or table creation may take: the writer's answers wait behind it.</summary>
    public static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(5);

    private bool IsPostgres => storage.Kind == StorageKind.PostgreSql;

    private DbConnection NewConnection() => IsPostgres
        ? new NpgsqlConnection(storage.HistoryConnectionString)
        : new SqliteConnection(storage.HistoryConnectionString);

    private async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        var connection = NewConnection();
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Creates the table and its index if they are missing; nodes starting together take turns (PostgreSQL: an advisory lock).</summary>
    public async Task EnsureCreatedAsync(CancellationToken ct)
    {
        var blob = IsPostgres ? "bytea" : "blob";
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var sql = (IsPostgres ? "SELECT pg_advisory_xact_lock(7216395042);\n" : "") + $"""
            CREATE TABLE IF NOT EXISTS {TasksTable} (
                task_id text PRIMARY KEY,
                namespace text NOT NULL,
                queue text NOT NULL,
                status smallint NOT NULL,
                payload {blob},
                output {blob},
                attempts text NOT NULL,
                running_attempt integer NOT NULL,
                running_since bigint NOT NULL,
                enqueued_at bigint NOT NULL,
                finished_at bigint NOT NULL,
                epoch bigint NOT NULL,
                updated_at bigint NOT NULL);
            CREATE INDEX IF NOT EXISTS {TasksTable}_updated ON {TasksTable} (updated_at);
            """;
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    // What a change leaves alone (status or running attempt -1, no payload, enqueue time 0) keeps the stored value; a
    // status change brings its result (null when the task is live again) and finish time; ended deliveries are appended,
    // the list kept to its last MaxAttemptsChars characters (a line cut at the front does not parse and is skipped).
    // A change from an older owner epoch than the row's (a write retried on a node the partition has left, arriving after
    // the new owner's) adds its ended deliveries and nothing else.
    private const string Older = "excluded.epoch < t.epoch";

    /// <summary>Most characters of ended deliveries a row keeps: more than the 25 a read returns (each line at most about 720).</summary>
    public const int MaxAttemptsChars = 20_000;

    private const string Appended = "t.attempts || excluded.attempts";

    private static readonly string OnConflict = $"""
        ON CONFLICT (task_id) DO UPDATE SET
            status = CASE WHEN excluded.status < 0 OR {Older} THEN t.status ELSE excluded.status END,
            payload = COALESCE(excluded.payload, t.payload),
            output = CASE WHEN excluded.status < 0 OR {Older} THEN t.output ELSE excluded.output END,
            attempts = CASE WHEN length({Appended}) > {MaxAttemptsChars}
                THEN substr({Appended}, length({Appended}) - {MaxAttemptsChars} + 1) ELSE {Appended} END,
            running_attempt = CASE WHEN excluded.running_attempt < 0 OR {Older} THEN t.running_attempt ELSE excluded.running_attempt END,
            running_since = CASE WHEN excluded.running_attempt < 0 OR {Older} THEN t.running_since ELSE excluded.running_since END,
            enqueued_at = CASE WHEN excluded.enqueued_at > 0 THEN excluded.enqueued_at ELSE t.enqueued_at END,
            finished_at = CASE WHEN excluded.status < 0 OR {Older} THEN t.finished_at ELSE excluded.finished_at END,
            epoch = CASE WHEN {Older} THEN t.epoch ELSE excluded.epoch END,
            updated_at = excluded.updated_at
        """;

    private const string Columns = "task_id, namespace, queue, status, payload, output, attempts, running_attempt, running_since, enqueued_at, finished_at, epoch, updated_at";

    private static readonly string UpsertMany = $"""
        INSERT INTO {TasksTable} AS t ({Columns})
        SELECT u.id, u.ns, u.q, u.st, u.p, u.o, u.a, u.ra, u.rs, u.e, u.f, u.ep, @now
        FROM unnest(@ids, @nss, @qs, @sts, @ps, @os, @as, @ras, @rss, @es, @fs, @eps) AS u(id, ns, q, st, p, o, a, ra, rs, e, f, ep)
        {OnConflict}
        """;

    private static readonly string UpsertOne = $"""
        INSERT INTO {TasksTable} AS t ({Columns})
        VALUES (@id, @ns, @q, @st, @p, @o, @a, @ra, @rs, @e, @f, @ep, @now)
        {OnConflict}
        """;

    /// <summary>Writes <paramref name="records"/>, one upsert per task, in one transaction (PostgreSQL: one statement).</summary>
    public async Task WriteAsync(IReadOnlyList<HistoryRecord> records, long nowMs, CancellationToken ct)
    {
        if (records.Count == 0) return;
        var rows = TaskRowChange.Fold(records);
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        if (connection is NpgsqlConnection pg)
        {
            await using var command = new NpgsqlCommand(UpsertMany, pg);
            command.Parameters.Add(new NpgsqlParameter<long>("now", nowMs));
            command.Parameters.Add(Array("ids", rows.Select(r => r.TaskId).ToArray(), NpgsqlTypes.NpgsqlDbType.Text));
            command.Parameters.Add(Array("nss", rows.Select(r => r.Namespace).ToArray(), NpgsqlTypes.NpgsqlDbType.Text));
            command.Parameters.Add(Array("qs", rows.Select(r => r.Queue).ToArray(), NpgsqlTypes.NpgsqlDbType.Text));
            command.Parameters.Add(Array("sts", rows.Select(r => (short)r.Status).ToArray(), NpgsqlTypes.NpgsqlDbType.Smallint));
            command.Parameters.Add(Array("ps", rows.Select(r => r.Payload).ToArray(), NpgsqlTypes.NpgsqlDbType.Bytea));
            command.Parameters.Add(Array("os", rows.Select(r => r.Output).ToArray(), NpgsqlTypes.NpgsqlDbType.Bytea));
            command.Parameters.Add(Array("as", rows.Select(r => r.EndedAttempts).ToArray(), NpgsqlTypes.NpgsqlDbType.Text));
            command.Parameters.Add(Array("ras", rows.Select(r => r.RunningAttempt).ToArray(), NpgsqlTypes.NpgsqlDbType.Integer));
            command.Parameters.Add(Array("rss", rows.Select(r => r.RunningSinceMs).ToArray(), NpgsqlTypes.NpgsqlDbType.Bigint));
            command.Parameters.Add(Array("es", rows.Select(r => r.EnqueuedAtMs).ToArray(), NpgsqlTypes.NpgsqlDbType.Bigint));
            command.Parameters.Add(Array("fs", rows.Select(r => r.FinishedAtMs).ToArray(), NpgsqlTypes.NpgsqlDbType.Bigint));
            command.Parameters.Add(Array("eps", rows.Select(r => r.Epoch).ToArray(), NpgsqlTypes.NpgsqlDbType.Bigint));
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return;
        }
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        foreach (var r in rows)
        {
            await using var command = Command(connection, UpsertOne, ("@id", r.TaskId), ("@ns", r.Namespace), ("@q", r.Queue), ("@st", (short)r.Status),
                ("@p", r.Payload), ("@o", r.Output), ("@a", r.EndedAttempts), ("@ra", r.RunningAttempt), ("@rs", r.RunningSinceMs),
                ("@e", r.EnqueuedAtMs), ("@f", r.FinishedAtMs), ("@ep", r.Epoch), ("@now", nowMs));
            command.Transaction = tx;
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    private static NpgsqlParameter Array<T>(string name, T[] values, NpgsqlTypes.NpgsqlDbType element) =>
        new(name, NpgsqlTypes.NpgsqlDbType.Array | element) { Value = values };

    private static DbCommand Command(DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            if (value is null) p.DbType = DbType.Binary; // only the payload and result are ever null
            command.Parameters.Add(p);
        }
        return command;
    }

    /// <summary>What the history holds of <paramref name="taskId"/>, or null when it has no row of it.</summary>
    public async Task<TaskDetails?> ReadAsync(string taskId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var command = Command(connection,
            $"SELECT payload, output, attempts, running_attempt, running_since, enqueued_at, finished_at FROM {TasksTable} WHERE task_id = @id", ("@id", taskId));
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return null;
        var payload = reader.IsDBNull(0) ? null : (byte[])reader.GetValue(0);
        var output = reader.IsDBNull(1) ? null : (byte[])reader.GetValue(1);
        var attempts = TaskRowChange.ParseAttempts(reader.GetString(2), reader.GetInt32(3), reader.GetInt64(4));
        return new TaskDetails(payload, output, attempts, reader.GetInt64(5), reader.GetInt64(6), Recorded: true);
    }

    /// <summary>
    /// Deletes up to <paramref name="limit"/> rows last changed before <paramref name="beforeMs"/>; how many went. On
    /// PostgreSQL one node trims at a time (a transaction-level advisory lock that others skip, not wait for).
    /// </summary>
    public async Task<int> TrimAsync(long beforeMs, int limit, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        if (IsPostgres)
        {
            await using var tryLock = Command(connection, "SELECT pg_try_advisory_xact_lock(7216395043)");
            tryLock.Transaction = tx;
            if (await tryLock.ExecuteScalarAsync(ct).ConfigureAwait(false) is not true) return 0;
        }
        await using var command = Command(connection,
            $"DELETE FROM {TasksTable} WHERE task_id IN (SELECT task_id FROM {TasksTable} WHERE updated_at < @before LIMIT {limit})",
            ("@before", beforeMs));
        command.Transaction = tx;
        var deleted = await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return deleted;
    }
}
