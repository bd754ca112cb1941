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

    /// <summary>Why an operation on the store did not succeed: its exception, or (cancelled by its deadline) the timeout.</summary>
    public static Exception FailureOf(Task operation) =>
        operation.Exception?.GetBaseException() ?? new TimeoutException($"no answer from the database within {OperationTimeout.TotalSeconds:0} s");

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

    /// <summary>
    /// Creates the table and its trim index if they are missing, and adds the columns of later versions to a table made
    /// by an earlier one; nodes starting together take turns (PostgreSQL: an advisory lock). Only quick statements: the
    /// listing index, which may take long on a large table, is built apart (<see cref="EnsureListingIndexAsync"/>).
    /// </summary>
    public async Task EnsureCreatedAsync(CancellationToken ct)
    {
        var blob = IsPostgres ? "bytea" : "blob";
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        // lock_timeout: adding a column waits for every open transaction on the table; better to fail and try again.
        var sql = (IsPostgres ? "SELECT pg_advisory_xact_lock(7216395042);\nSET LOCAL lock_timeout = '2s';\n" : "") + $"""
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
                running_worker text,
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
        // A table made before workers were kept (2026-12-02) gets the column.
        await using var check = Command(connection, IsPostgres
            ? $"SELECT count(*) FROM information_schema.columns WHERE table_name = '{TasksTable}' AND column_name = 'running_worker' AND table_schema = current_schema()"
            : $"SELECT count(*) FROM pragma_table_info('{TasksTable}') WHERE name = 'running_worker'");
        check.Transaction = tx;
        if (Convert.ToInt64(await check.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            await using var add = Command(connection, $"ALTER TABLE {TasksTable} ADD COLUMN running_worker text");
            add.Transaction = tx;
            await add.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>The index <see cref="ListAsync"/> pages settled tasks by: namespace, queue, status, finish time.</summary>
    public const string ListingIndex = TasksTable + "_listing";

    private static readonly string SettledStatuses = $"{(int)TaskStatus.Completed}, {(int)TaskStatus.Cancelled}";

    /// <summary>
    /// Builds the listing index if it is missing; false when another node is building it (PostgreSQL), so the caller
    /// tries again later. On PostgreSQL it is built <c>CONCURRENTLY</c>, without a deadline (a large table takes a
    /// while, and nothing waits for it: writes go on, and listings work without it, only slower), and only over settled
    /// rows (a live row's changes then never touch it); a build that failed half way leaves an invalid index, which is
    /// dropped and built again.
    /// </summary>
    public async Task<bool> EnsureListingIndexAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        if (!IsPostgres)
        {
            await using var create = Command(connection, $"CREATE INDEX IF NOT EXISTS {ListingIndex} ON {TasksTable} (namespace, queue, status, finished_at)");
            await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return true;
        }
        // A session lock on a pooled connection that is never reset (PostgresDefaults.NoResetOnClose): it must be released
        // on every path, also when the try-lock itself failed or was cancelled after PostgreSQL may have granted it.
        bool? locked = null; // null: the try-lock did not answer, so it may be held
        try
        {
            await using (var tryLock = Command(connection, "SELECT pg_try_advisory_lock(7216395044)"))
                locked = await tryLock.ExecuteScalarAsync(ct).ConfigureAwait(false) is true;
            if (locked == false) return false;
            await using var valid = Command(connection, $"""
                SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
                WHERE c.relname = '{ListingIndex}' AND c.relnamespace = current_schema()::regnamespace
                """);
            var state = await valid.ExecuteScalarAsync(ct).ConfigureAwait(false);
            if (state is true) return true;
            if (state is false)
            {
                await using var drop = Command(connection, $"DROP INDEX CONCURRENTLY IF EXISTS {ListingIndex}");
                drop.CommandTimeout = 0;
                await drop.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            await using var build = Command(connection,
                $"CREATE INDEX CONCURRENTLY IF NOT EXISTS {ListingIndex} ON {TasksTable} (namespace, queue, status, finished_at) WHERE status IN ({SettledStatuses})");
            build.CommandTimeout = 0;
            await build.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return true;
        }
        finally
        {
            if (locked != false)
            {
                await using var unlock = Command(connection, "SELECT pg_advisory_unlock(7216395044)");
                await unlock.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    // What a change leaves alone (status or running attempt -1, no payload, enqueue time 0) keeps the stored value; a
    // status change brings its result (null when the task is live again) and finish time; ended deliveries are appended,
    // the list kept to its last MaxAttemptsChars characters (the line cut at the front is skipped when read).
    // A change from an older owner epoch than the row's (a write retried on a node the partition has left, arriving after
    // the new owner's) adds its ended deliveries and nothing else.
    private const string Older = "excluded.epoch < t.epoch";

    /// <summary>
    /// Most characters of ended deliveries a row keeps: more than the 25 a read returns while reasons are short (a line
    /// is about 50 characters plus the base64 of its reason and worker, at most about 2,200).
    /// </summary>
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
            running_worker = CASE WHEN excluded.running_attempt < 0 OR {Older} THEN t.running_worker ELSE excluded.running_worker END,
            enqueued_at = CASE WHEN excluded.enqueued_at > 0 THEN excluded.enqueued_at ELSE t.enqueued_at END,
            finished_at = CASE WHEN excluded.status < 0 OR {Older} THEN t.finished_at ELSE excluded.finished_at END,
            epoch = CASE WHEN {Older} THEN t.epoch ELSE excluded.epoch END,
            updated_at = excluded.updated_at
        """;

    private const string Columns = "task_id, namespace, queue, status, payload, output, attempts, running_attempt, running_since, running_worker, enqueued_at, finished_at, epoch, updated_at";

    private static readonly string UpsertMany = $"""
        INSERT INTO {TasksTable} AS t ({Columns})
        SELECT u.id, u.ns, u.q, u.st, u.p, u.o, u.a, u.ra, u.rs, u.rw, u.e, u.f, u.ep, @now
        FROM unnest(@ids, @nss, @qs, @sts, @ps, @os, @as, @ras, @rss, @rws, @es, @fs, @eps) AS u(id, ns, q, st, p, o, a, ra, rs, rw, e, f, ep)
        {OnConflict}
        """;

    private static readonly string UpsertOne = $"""
        INSERT INTO {TasksTable} AS t ({Columns})
        VALUES (@id, @ns, @q, @st, @p, @o, @a, @ra, @rs, @rw, @e, @f, @ep, @now)
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
            command.Parameters.Add(Array("rws", rows.Select(r => r.RunningWorker).ToArray(), NpgsqlTypes.NpgsqlDbType.Text));
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
                ("@p", r.Payload), ("@o", r.Output), ("@a", r.EndedAttempts), ("@ra", r.RunningAttempt), ("@rs", r.RunningSinceMs), ("@rw", r.RunningWorker),
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
            if (value is null) p.DbType = name == "@rw" ? DbType.String : DbType.Binary; // the payload, result and running worker may be null
            command.Parameters.Add(p);
        }
        return command;
    }

    /// <summary>What the history holds of <paramref name="taskId"/>, or null when it has no row of it.</summary>
    public async Task<TaskDetails?> ReadAsync(string taskId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var command = Command(connection,
            $"SELECT payload, output, attempts, running_attempt, running_since, enqueued_at, finished_at, running_worker FROM {TasksTable} WHERE task_id = @id", ("@id", taskId));
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return null;
        var payload = reader.IsDBNull(0) ? null : (byte[])reader.GetValue(0);
        var output = reader.IsDBNull(1) ? null : (byte[])reader.GetValue(1);
        var attempts = TaskRowChange.ParseAttempts(reader.GetString(2), reader.GetInt32(3), reader.GetInt64(4), reader.IsDBNull(7) ? null : reader.GetString(7));
        return new TaskDetails(payload, output, attempts, reader.GetInt64(5), reader.GetInt64(6), Recorded: true);
    }

    /// <summary>Characters of a row's attempts a listing reads: more than any one line, so its last line is whole.</summary>
    private const int ListedAttemptsTail = 2_400;

    /// <summary>
    /// Up to <paramref name="limit"/> settled tasks of a queue in <paramref name="status"/>, newest first (finish time, then
    /// task id, both descending), after the cursor (<paramref name="after"/>: the finish time and task id of the last
    /// item of the page before); whether more follow.
    /// </summary>
    public async Task<(TaskSummary[] Items, bool More)> ListAsync(string ns, string queue, TaskStatus status, int limit,
        (long FinishedAtMs, string TaskId)? after, CancellationToken ct)
    {
        if (!ListTasks.IsSettled(status)) throw new ArgumentOutOfRangeException(nameof(status), status, "only settled tasks are listed from the history");
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        // finished_at <= @afterAt as well: PostgreSQL takes it as the index scan's bound (the OR alone it only filters by).
        var cursor = after is null ? "" : "AND finished_at <= @afterAt AND (finished_at < @afterAt OR (finished_at = @afterAt AND task_id < @afterId))";
        var collate = IsPostgres ? " COLLATE \"C\"" : ""; // the byte order both stores compare ids in, so the cursor means the same
        await using var command = Command(connection, $"""
            SELECT task_id, finished_at,
                   CASE WHEN length(attempts) > {ListedAttemptsTail} THEN substr(attempts, length(attempts) - {ListedAttemptsTail - 1}) ELSE attempts END
            FROM {TasksTable}
            WHERE namespace = @ns AND queue = @q AND status = {(short)status} {cursor.Replace("task_id <", $"task_id{collate} <", StringComparison.Ordinal)}
            ORDER BY finished_at DESC, task_id{collate} DESC
            LIMIT {limit + 1}
            """,
            ("@ns", ns), ("@q", queue), ("@afterAt", after?.FinishedAtMs ?? 0), ("@afterId", after?.TaskId ?? ""));
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var items = new List<TaskSummary>(Math.Min(limit, 256));
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            if (items.Count == limit) return (items.ToArray(), true);
            var id = reader.GetString(0);
            var last = TaskRowChange.LastAttempt(reader.GetString(2));
            items.Add(new TaskSummary(id, status, TaskId.TryParse(id, out var parsed) ? parsed.Priority : 0, last?.Attempt ?? 0,
                reader.GetInt64(1), last?.Reason, last?.Worker));
        }
        return (items.ToArray(), false);
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
