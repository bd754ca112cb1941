using Conduit.Server.Matching;
using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>A real node and a client connected to it through ClusterClient, shared by a test class (tests use queues of their own).</summary>
public abstract class ClientNodeFixture : IAsyncLifetime
{
    /// <summary>Writes outstanding per partition before Overloaded: low, so a test can reach it with one batch.</summary>
    public const int OutstandingWriteLimit = 100;

    public TestNode Node { get; private set; } = null!;
    public ConduitClient Client { get; private set; } = null!;

    protected abstract Task<TestNode> StartNodeAsync(PartitionOptions options);

    public async Task InitializeAsync()
    {
        Node = await StartNodeAsync(TestNode.FastPartitionOptions with { OutstandingWriteLimit = OutstandingWriteLimit });
        Client = ConduitClient.Connect(Node.Server);
    }

    public virtual async Task DisposeAsync()
    {
        await Client.DisposeAsync();
        await Node.DisposeAsync();
    }
}

/// <summary>On a fresh SQLite file.</summary>
public sealed class SqliteClientNodeFixture : ClientNodeFixture
{
    protected override Task<TestNode> StartNodeAsync(PartitionOptions options) => TestNode.StartAsync(TestStores.NewSqlite(), options);
}

/// <summary>On its own throw-away PostgreSQL server.</summary>
public sealed class PostgresClientNodeFixture : ClientNodeFixture
{
    private PostgresServer? _server;

    protected override async Task<TestNode> StartNodeAsync(PartitionOptions options)
    {
        _server = await PostgresServer.StartAsync();
        return await TestNode.StartAsync(await TestStores.NewPostgres(_server), options);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_server is not null) await _server.DisposeAsync();
    }
}

public sealed class SqliteClientConformance(SqliteClientNodeFixture fixture)
    : ClientConformance(fixture.Node, fixture.Client), IClassFixture<SqliteClientNodeFixture>;

public sealed class PostgresClientConformance(PostgresClientNodeFixture fixture)
    : ClientConformance(fixture.Node, fixture.Client), IClassFixture<PostgresClientNodeFixture>;
