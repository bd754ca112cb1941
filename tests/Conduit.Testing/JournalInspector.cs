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

    private static async Task<long> Count(StorageOptions storage, string sql, string? persistenceId)
    {
        await using DbConnection connection = storage.Kind == StorageKind.Sqlite
            ? new SqliteConnection(storage.ConnectionString)
            : new NpgsqlConnection(storage.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (persistenceId is not null) Add(command, "@p", persistenceId);
        if (sql.Contains("@f", StringComparison.Ordinal)) Add(command, "@f", false);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        command.Parameters.Add(p);
    }
}
