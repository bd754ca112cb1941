using Conduit.Testing;
using Xunit;

namespace Conduit.Server.Tests.Conformance;

/// <summary>One real node on a fresh SQLite file, shared by a test class (tests use queues of their own).</summary>
public sealed class SqliteNodeFixture : IAsyncLifetime
{
    public TestNode Node { get; private set; } = null!;
    public async Task InitializeAsync() => Node = await TestNode.StartAsync(TestStores.NewSqlite());
    public async Task DisposeAsync() => await Node.DisposeAsync();
}

/// <summary>One real node on its own throw-away PostgreSQL server, shared by a test class.</summary>
public sealed class PostgresNodeFixture : IAsyncLifetime
{
    private PostgresServer? _server;
    public TestNode Node { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartAsync();
        Node = await TestNode.StartAsync(await TestStores.NewPostgres(_server));
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        if (_server is not null) await _server.DisposeAsync();
    }
}

public sealed class SqliteQueueConformance(SqliteNodeFixture fixture) : QueueConformance(fixture.Node), IClassFixture<SqliteNodeFixture>;

public sealed class PostgresQueueConformance(PostgresNodeFixture fixture) : QueueConformance(fixture.Node), IClassFixture<PostgresNodeFixture>;
