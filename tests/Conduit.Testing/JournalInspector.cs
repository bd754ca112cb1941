using System.Data.Common;
using Conduit.Server.Hosting;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Conduit.Testing;

/// <summary>Reads the journal and snapshot tables directly, to check what really reached storage.</summary>
public static class JournalInspector
{
    /// <summary>Rows of <paramref name="persistenceId"/> in the journal that are not marked deleted.</summary>
    public static Task<long> LiveEvents(StorageOptions storage, string persistenceId) =>
        Count(storage, "SELECT COUNT(*) FROM journal WHERE persistence_id = @p AND deleted = @f", persistenceId);

    public static Task<long> Snapshots(StorageOptions storage, string persistenceId) =>
        Count(storage, "SELECT COUNT(*) FROM snapshot WHERE persistence_id = @p", persistenceId);

    /// <summary>Every row in the journal, of every persistence id (partitions, remembered entities, ...).</summary>
    public static Task<long> AllRows(StorageOptions storage) => Count(storage, "SELECT COUNT(*) FROM journal", null);

    /// <summary>Rows of every persistence id that contains <paramref name="text"/>.</summary>
    public static Task<long> RowsOfIdsContaining(StorageOptions storage, string text) =>
        Count(storage, "SELECT COUNT(*) FROM journal WHERE persistence_id LIKE @p", "%" + text + "%");

    /// <summary>One journal row as stored: its sequence number, whether it is marked deleted, and who wrote it when.</summary>
    public sealed record Row(long SequenceNr, bool Deleted, string? WriterUuid, long Timestamp, int SerializerId, string Manifest, byte[] Message);

    /// <summary>Every row of <paramref name="persistenceId"/> still in the journal (marked deleted or not), in order; for failure messages.</summary>
    public static async Task<IReadOnlyList<Row>> Rows(StorageOptions storage, string persistenceId)
    {
        await using var connection = await Open(storage);
        await using var command = connection.CreateCommand();
        // Every column, read by name: which optional ones there are (writer_uuid) depends on the plugin's settings.
        command.CommandText = "SELECT * FROM journal WHERE persistence_id = @p ORDER BY sequence_number";
        Add(command, "@p", persistenceId);
        var rows = new List<Row>();
        await using var reader = await command.ExecuteReaderAsync();
        var columns = Enumerable.Range(0, reader.FieldCount).ToDictionary(reader.GetName, i => i, StringComparer.OrdinalIgnoreCase);
        object? Value(string name) => columns.TryGetValue(name, out var i) && !reader.IsDBNull(i) ? reader.GetValue(i) : null;
        while (await reader.ReadAsync())
            rows.Add(new Row(Convert.ToInt64(Value("sequence_number")), Convert.ToBoolean(Value("deleted")), Value("writer_uuid") as string,
                Convert.ToInt64(Value("created") ?? 0L), Convert.ToInt32(Value("identifier") ?? 0), Value("manifest") as string ?? "", (byte[])Value("message")!));
        return rows;
    }

    /// <summary>The sequence numbers of the snapshots of <paramref name="persistenceId"/>.</summary>
    public static async Task<IReadOnlyList<long>> SnapshotSeqNrs(StorageOptions storage, string persistenceId)
    {
        await using var connection = await Open(storage);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence_number FROM snapshot WHERE persistence_id = @p ORDER BY sequence_number";
        Add(command, "@p", persistenceId);
        var seqNrs = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) seqNrs.Add(reader.GetInt64(0));
        return seqNrs;
    }

    private static async Task<long> Count(StorageOptions storage, string sql, string? persistenceId)
    {
        await using var connection = await Open(storage);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (persistenceId is not null) Add(command, "@p", persistenceId);
        if (sql.Contains("@f", StringComparison.Ordinal)) Add(command, "@f", false);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    private static async Task<DbConnection> Open(StorageOptions storage)
    {
        DbConnection connection = storage.Kind == StorageKind.Sqlite
            ? new SqliteConnection(storage.ConnectionString)
            : new NpgsqlConnection(storage.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        command.Parameters.Add(p);
    }
}
