using Conduit.Server.Hosting;
using Conduit.Testing;
using Npgsql;
using Xunit;

namespace Conduit.Server.Tests.Durability;

/// <summary>The Npgsql settings a node fills in when its connection string leaves them out (<see cref="PostgresDefaults"/>).</summary>
[Collection(PostgresFixture.CollectionName)]
public sealed class PostgresDefaultsTests(PostgresFixture pg)
{
    [Fact(DisplayName = "a PostgreSQL connection string without them gets auto-preparation and no reset on close")]
    public void FilledIn()
    {
        var storage = StorageOptions.Postgres("Host=db;Username=conduit;Password=secret;Database=conduit");
        var effective = new NpgsqlConnectionStringBuilder(storage.ConnectionString);
        Assert.Equal(PostgresDefaults.MaxAutoPrepare, effective.MaxAutoPrepare);
        Assert.True(effective.NoResetOnClose);
        Assert.Equal(("db", "conduit", "secret", "conduit"), (effective.Host, effective.Username, effective.Password, effective.Database));
        // The task history shares the database, and so the settings.
        Assert.Equal(storage.ConnectionString, storage.HistoryConnectionString);
        Assert.DoesNotContain("secret", storage.Describe(), StringComparison.Ordinal);
    }

    [Theory(DisplayName = "a setting the connection string names wins, in either of Npgsql's spellings")]
    [InlineData("Host=db;Max Auto Prepare=0;No Reset On Close=false")]
    [InlineData("Host=db;maxautoprepare=0;NoResetOnClose=false")]
    [InlineData("Host=db; max auto prepare = 0 ; no reset on close = false")]
    public void NamedWins(string given)
    {
        var effective = new NpgsqlConnectionStringBuilder(StorageOptions.Postgres(given).ConnectionString);
        Assert.Equal(0, effective.MaxAutoPrepare);
        Assert.False(effective.NoResetOnClose);
    }

    [Fact(DisplayName = "a connection string that names one of the settings gets the other")]
    public void NamedOne()
    {
        var effective = new NpgsqlConnectionStringBuilder(StorageOptions.Postgres("Host=db;Max Auto Prepare=0").ConnectionString);
        Assert.Equal(0, effective.MaxAutoPrepare);
        Assert.True(effective.NoResetOnClose);
    }

    [Fact(DisplayName = "a SQLite connection string is left as given")]
    public void SqliteUntouched()
    {
        var storage = new StorageOptions(StorageKind.Sqlite, "Data Source=/tmp/x/conduit.db");
        Assert.Equal("Data Source=/tmp/x/conduit.db", storage.ConnectionString);
    }

    /// <summary>
    /// Against the real thing: after a node has written its journal one event at a time, some connection of its pool has
    /// the journal's INSERT prepared. Npgsql keeps one pool per connection string in a process, so the test's connections
    /// with the node's string come from the same pool; it takes more than the pool holds idle, so it sees every one.
    /// </summary>
    [Fact(DisplayName = "a PostgreSQL node's journal INSERT runs as a prepared statement")]
    public async Task JournalPrepared()
    {
        var storage = await TestStores.NewPostgres(pg.Server);
        const int writes = 60;
        await using var node = await TestNode.StartAsync(storage);
        for (var i = 0; i < writes; i++) await node.Enqueue("prepared", $"t{i}");
        var connections = new List<NpgsqlConnection>();
        try
        {
            var prepared = new List<string>();
            for (var i = 0; i < 30; i++)
            {
                var connection = new NpgsqlConnection(storage.ConnectionString);
                connections.Add(connection);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("SELECT statement FROM pg_prepared_statements", connection);
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync()) prepared.Add(reader.GetString(0));
            }
            Assert.Contains(prepared, s => s.Contains("INSERT INTO", StringComparison.OrdinalIgnoreCase) && s.Contains("journal", StringComparison.OrdinalIgnoreCase));
        }
        finally
        {
            foreach (var connection in connections) await connection.DisposeAsync();
        }
    }
}
