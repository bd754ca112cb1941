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

    private static async Task<long> Count(StorageOptions storage, string sql, string persistenceId)
    {
        await using DbConnection connection = storage.Kind == StorageKind.Sqlite
            ? new SqliteConnection(storage.ConnectionString)
            : new NpgsqlConnection(storage.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        Add(command, "@p", persistenceId);
        Add(command, "@f", false);
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
