using Conduit.Testing;
using Xunit;

namespace Conduit.Cli.Tests;

/// <summary>One real node on a fresh SQLite file, shared by a test class (tests use queues of their own), plus its warning and info log.</summary>
public class CliNodeFixture : IAsyncLifetime
{
    private readonly IReadOnlyDictionary<string, int>? _queuePartitions;

    public CliNodeFixture() : this(null) { }

    /// <param name="queuePartitions">Per-queue partition counts for the node (<c>--queue-partitions q=N</c>); other queues have one.</param>
    protected CliNodeFixture(IReadOnlyDictionary<string, int>? queuePartitions) => _queuePartitions = queuePartitions;

    public TestNode Node { get; private set; } = null!;
    public LogCollector Log { get; private set; } = null!;

    /// <summary><c>--server 127.0.0.1:port</c> for this node.</summary>
    public string Server => $"127.0.0.1:{Node.Port}";

    public Task<CliResult> Cli(params string[] args) => CliProcess.Run(["--server", Server, .. args]);

    public async Task InitializeAsync()
    {
        Node = await TestNode.StartAsync(TestStores.NewSqlite(), queuePartitions: _queuePartitions);
        Log = LogCollector.Attach(Node.System);
    }

    public async Task DisposeAsync() => await Node.DisposeAsync();
}
