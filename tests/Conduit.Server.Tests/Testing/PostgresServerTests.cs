using System.Net.Sockets;
using Conduit.Testing;
using Npgsql;
using Xunit;

namespace Conduit.Server.Tests.Testing;

[Collection("postgres")]
public sealed class PostgresServerTests
{
    private readonly PostgresFixture _fixture;

    public PostgresServerTests(PostgresFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task Created_database_stores_and_returns_a_row()
    {
        var connectionString = await _fixture.Server.CreateDatabaseAsync("pgserver_roundtrip_" + Guid.NewGuid().ToString("N")[..8]);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();

        await using (var create = new NpgsqlCommand("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)", connection))
            await create.ExecuteNonQueryAsync();

        await using (var insert = new NpgsqlCommand("INSERT INTO items (id, name) VALUES (@id, @name)", connection))
        {
            insert.Parameters.AddWithValue("id", 1);
            insert.Parameters.AddWithValue("name", "hello conduit");
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }

        await using var select = new NpgsqlCommand("SELECT name FROM items WHERE id = 1", connection);
        Assert.Equal("hello conduit", await select.ExecuteScalarAsync());
        Assert.Equal(connection.Database, new NpgsqlConnectionStringBuilder(connectionString).Database);
    }

    [Fact]
    public async Task Server_runs_with_fsync_on()
    {
        await using var connection = new NpgsqlConnection(_fixture.Server.ConnectionString);
        await connection.OpenAsync();
        await using var show = new NpgsqlCommand("SHOW fsync", connection);
        Assert.Equal("on", await show.ExecuteScalarAsync());
    }

    [Fact]
    public void Connection_string_points_at_the_loopback_port()
    {
        var builder = new NpgsqlConnectionStringBuilder(_fixture.Server.ConnectionString);
        Assert.Equal("127.0.0.1", builder.Host);
        Assert.Equal(_fixture.Server.Port, builder.Port);
        Assert.Equal("postgres", builder.Username);
        Assert.Equal("postgres", builder.Database);
        Assert.True(builder.Pooling);
        Assert.Equal(50, builder.MaxPoolSize);
    }

    [Fact]
    public async Task Dispose_stops_the_server_and_deletes_its_directory()
    {
        var server = await PostgresServer.StartAsync();
        var port = server.Port;
        var directory = server.BaseDirectory;
        Assert.True(Directory.Exists(directory));

        await server.DisposeAsync();

        Assert.False(Directory.Exists(directory));
        using var client = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => client.ConnectAsync("127.0.0.1", port));
    }
}
