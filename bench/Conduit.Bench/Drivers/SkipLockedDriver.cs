using Npgsql;
using NpgsqlTypes;

namespace Conduit.Bench.Drivers;

/// <summary>
/// The baseline: a PostgreSQL task table worked the way the Postgres-as-queue articles describe. A worker opens a
/// transaction, claims up to N rows with <c>SELECT … ORDER BY priority DESC, id LIMIT N FOR UPDATE SKIP LOCKED</c>,
/// processes them, deletes them and commits (one fsync per claim). When the table has nothing for it, it polls
/// again after <see cref="PollInterval"/>. Each producer and worker holds one connection (a pipelined worker loop,
/// <see cref="Workloads.WorkLoop"/>, holds two workers: it claims on one while the other deletes and commits).
/// </summary>
public sealed class SkipLockedDriver(string connectionString, string name, TimeSpan pollInterval) : IQueueDriver
{
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS tasks (
            id         bigserial PRIMARY KEY,
            queue      text        NOT NULL,
            priority   smallint    NOT NULL DEFAULT 5,
            run_at     timestamptz NOT NULL DEFAULT now(),
            created_at timestamptz NOT NULL DEFAULT now(),
            payload    bytea       NOT NULL
        );
        CREATE INDEX IF NOT EXISTS tasks_claim ON tasks (queue, priority DESC, id);
        """;

    public string Name { get; } = name;
    public TimeSpan PollInterval { get; } = pollInterval;

    public static async Task CreateSchemaAsync(string connectionString)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(Schema, c);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Empties the table between scenarios (not timed) so each starts alike.</summary>
    public static async Task ResetAsync(string connectionString)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        foreach (var sql in new[] { "TRUNCATE tasks", "VACUUM ANALYZE tasks" })
        {
            await using var cmd = new NpgsqlCommand(sql, c);
            await cmd.ExecuteNonQueryAsync();
        }
    }

    /// <summary>After a fill (not timed): fresh planner statistics, as autovacuum would give a long-lived table.</summary>
    public static async Task AnalyzeAsync(string connectionString)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand("ANALYZE tasks", c);
        await cmd.ExecuteNonQueryAsync();
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        return c;
    }

    public async Task<IProducer> OpenProducerAsync() => new Producer(await OpenAsync());
    public async Task<IWorker> OpenWorkerAsync(int claimSize) => new Worker(await OpenAsync(), claimSize, PollInterval);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class Producer : IProducer
    {
        private readonly NpgsqlConnection _c;
        private readonly NpgsqlCommand _single;
        private readonly NpgsqlCommand _batch;

        public Producer(NpgsqlConnection c)
        {
            _c = c;
            _single = new NpgsqlCommand("INSERT INTO tasks (queue, payload) VALUES ($1, $2)", c)
            {
                Parameters = { new() { NpgsqlDbType = NpgsqlDbType.Text }, new() { NpgsqlDbType = NpgsqlDbType.Bytea } },
            };
            _batch = new NpgsqlCommand("INSERT INTO tasks (queue, payload) SELECT $1, p FROM unnest($2::bytea[]) AS p", c)
            {
                Parameters = { new() { NpgsqlDbType = NpgsqlDbType.Text }, new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea } },
            };
        }

        public async Task EnqueueAsync(string queue, byte[] payload)
        {
            _single.Parameters[0].Value = queue;
            _single.Parameters[1].Value = payload;
            await _single.ExecuteNonQueryAsync();
        }

        public async Task EnqueueBatchAsync(string queue, byte[][] payloads)
        {
            _batch.Parameters[0].Value = queue;
            _batch.Parameters[1].Value = payloads;
            await _batch.ExecuteNonQueryAsync();
        }

        public async ValueTask DisposeAsync()
        {
            await _single.DisposeAsync();
            await _batch.DisposeAsync();
            await _c.DisposeAsync();
        }
    }

    private sealed class Worker : IWorker
    {
        private readonly NpgsqlConnection _c;
        private readonly int _claimSize;
        private readonly TimeSpan _pollInterval;
        private readonly NpgsqlCommand _claim;
        private readonly NpgsqlCommand _delete;
        private NpgsqlTransaction? _tx;
        private readonly List<long> _ids = [];

        public Worker(NpgsqlConnection c, int claimSize, TimeSpan pollInterval)
        {
            _c = c;
            _claimSize = claimSize;
            _pollInterval = pollInterval;
            _claim = new NpgsqlCommand(
                "SELECT id, payload FROM tasks WHERE queue = $1 AND run_at <= now() ORDER BY priority DESC, id LIMIT $2 FOR UPDATE SKIP LOCKED", c)
            {
                Parameters = { new() { NpgsqlDbType = NpgsqlDbType.Text }, new() { NpgsqlDbType = NpgsqlDbType.Integer } },
            };
            _delete = new NpgsqlCommand("DELETE FROM tasks WHERE id = ANY($1)", c)
            {
                Parameters = { new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint } },
            };
        }

        public async Task<IReadOnlyList<byte[]>> PollAsync(string queue, TimeSpan wait, CancellationToken ct)
        {
            var deadline = DateTime.UtcNow + wait;
            while (true)
            {
                var tx = await _c.BeginTransactionAsync(ct);
                _claim.Transaction = tx;
                _claim.Parameters[0].Value = queue;
                _claim.Parameters[1].Value = _claimSize;
                var payloads = new List<byte[]>(_claimSize);
                _ids.Clear();
                try
                {
                    await using var reader = await _claim.ExecuteReaderAsync(ct);
                    while (await reader.ReadAsync(ct))
                    {
                        _ids.Add(reader.GetInt64(0));
                        payloads.Add((byte[])reader.GetValue(1));
                    }
                }
                catch (OperationCanceledException)
                {
                    // Withdrawn (the drain is over): give the claim back, as a Conduit poll that is withdrawn does.
                    try { await tx.RollbackAsync(CancellationToken.None); }
                    catch (Exception e) when (e is NpgsqlException or InvalidOperationException) { /* the connection broke with the cancel; it is disposed next */ }
                    await tx.DisposeAsync();
                    throw;
                }
                if (payloads.Count > 0)
                {
                    _tx = tx;
                    return payloads;
                }
                await tx.RollbackAsync(CancellationToken.None);
                await tx.DisposeAsync();
                if (DateTime.UtcNow + _pollInterval > deadline || ct.IsCancellationRequested) return [];
                try { await Task.Delay(_pollInterval, ct); }
                catch (OperationCanceledException) { return []; }
            }
        }

        public async Task CompleteAllAsync()
        {
            if (_tx is null) return;
            _delete.Transaction = _tx;
            _delete.Parameters[0].Value = _ids.ToArray();
            await _delete.ExecuteNonQueryAsync();
            await _tx.CommitAsync();
            await _tx.DisposeAsync();
            _tx = null;
        }

        public async ValueTask DisposeAsync()
        {
            if (_tx is not null) await _tx.DisposeAsync();
            await _claim.DisposeAsync();
            await _delete.DisposeAsync();
            await _c.DisposeAsync();
        }
    }
}
