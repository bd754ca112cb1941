using Conduit.Server.Matching;

namespace Conduit.Server.Hosting;

public enum StorageKind
{
    Sqlite,
    PostgreSql,
}

/// <summary>Where partitions keep their journal and snapshots.</summary>
public sealed record StorageOptions(StorageKind Kind, string ConnectionString)
{
    /// <summary>A SQLite file <c>conduit.db</c> in <paramref name="dataDirectory"/> (created when missing).</summary>
    public static StorageOptions Sqlite(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var file = Path.GetFullPath(Path.Combine(dataDirectory, "conduit.db"));
        return new StorageOptions(StorageKind.Sqlite, $"Data Source={file}");
    }

    public static StorageOptions Postgres(string connectionString) => new(StorageKind.PostgreSql, connectionString);

    public string Describe() => Kind == StorageKind.Sqlite
        ? $"SQLite {ConnectionString["Data Source=".Length..]}"
        : $"PostgreSQL {new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString) { Password = null }}";
}

/// <summary>What a Conduit node runs.</summary>
public sealed record ConduitServerOptions
{
    public const string FrontendRole = "frontend";
    public const string TaskServiceRole = "taskservice";

    /// <summary>Roles of this node. Defaults to both.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [FrontendRole, TaskServiceRole];
    /// <summary>Partitions per queue. Defaults to 1 (a single node); use 4 on a cluster. Every node must agree.</summary>
    public int PartitionsPerQueue { get; init; } = 1;
    /// <summary>Per-queue partition counts that differ from <see cref="PartitionsPerQueue"/>. Every node must agree.</summary>
    public IReadOnlyDictionary<string, int> QueuePartitions { get; init; } = new Dictionary<string, int>();
    /// <summary>Shards the partitions are spread over. Defaults to 100.</summary>
    public int MaxShards { get; init; } = 100;
    public PartitionOptions Partition { get; init; } = new();
    /// <summary>In a busy system a poll asks one partition at a time for this long before moving on. Defaults to 200 ms.</summary>
    public long PollProbeMs { get; init; } = 200;

    public bool IsFrontend => Roles.Contains(FrontendRole);
    public bool IsTaskService => Roles.Contains(TaskServiceRole);
}
