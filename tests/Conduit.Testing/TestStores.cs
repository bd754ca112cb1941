using Conduit.Server.Hosting;

namespace Conduit.Testing;

/// <summary>Fresh, empty stores for a test: a SQLite file in a temp folder, or a new database on the shared PostgreSQL.</summary>
public static class TestStores
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    public static StorageOptions NewSqlite() =>
        StorageOptions.Sqlite(Path.Combine(Path.GetTempPath(), "conduit-tests", Guid.NewGuid().ToString("N")));

    public static async Task<StorageOptions> NewPostgres(PostgresServer server) =>
        StorageOptions.Postgres(await server.CreateDatabaseAsync("t" + Guid.NewGuid().ToString("N")[..16]));

    public static Task<StorageOptions> New(string kind, PostgresServer server) =>
        kind == Postgres ? NewPostgres(server) : Task.FromResult(NewSqlite());
}
