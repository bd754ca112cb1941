using Conduit.Client;
using Conduit.Protocol;
using Conduit.Testing;
using Xunit;

namespace Conduit.Node.Tests.Faults;

/// <summary>
/// Conduit nodes as real processes (the built <c>Conduit.Node</c>, shipped settings) in one cluster on one PostgreSQL
/// database, as an operator runs them. Each node is a seed of the ones after it.
/// </summary>
public sealed class ProcessCluster : IAsyncDisposable
{
    private readonly List<Member> _members = new();

    private ProcessCluster(PostgresServer postgres) => Postgres = postgres;

    public sealed record Member(int Index, int Port, int ClusterPort, NodeProcess Process)
    {
        public string Server => $"127.0.0.1:{Port}";
        public string ClusterAddress => $"akka.tcp://conduit-cluster@127.0.0.1:{ClusterPort}";
        public bool Killed { get; set; }
    }

    public PostgresServer Postgres { get; }
    public IReadOnlyList<Member> Members => _members;
    public IEnumerable<Member> Alive => _members.Where(m => !m.Killed);

    private const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff";

    /// <summary>
    /// Each node's log entries start with the UTC time to the millisecond (<see cref="TimestampFormat"/>), so a saved log
    /// shows where a failover's seconds go (failure detection, downing, removal, the shard's move, the entity's recovery).
    /// </summary>
    private static readonly IReadOnlyDictionary<string, string> LogTimestamps = new Dictionary<string, string>
    {
        ["Logging__Console__FormatterOptions__TimestampFormat"] = TimestampFormat + " ",
        ["Logging__Console__FormatterOptions__UseUtcTimestamp"] = "true",
    };

    /// <summary>Starts PostgreSQL and <paramref name="nodes"/> nodes, and waits until every node is Up in one cluster.</summary>
    public static async Task<ProcessCluster> Start(int nodes, int partitionsPerQueue)
    {
        var cluster = new ProcessCluster(await PostgresServer.StartAsync());
        try
        {
            var database = await cluster.Postgres.CreateDatabaseAsync("conduit");
            var clusterPorts = Enumerable.Range(0, nodes).Select(_ => NodeProcess.FreePort()).ToArray();
            for (var i = 0; i < nodes; i++)
            {
                var port = NodeProcess.FreePort();
                var process = NodeProcess.Start(LogTimestamps,
                    "--postgres", database, "--port", port.ToString(), "--cluster-port", clusterPorts[i].ToString(),
                    "--seed", $"akka.tcp://conduit-cluster@127.0.0.1:{clusterPorts[0]}", "--partitions", partitionsPerQueue.ToString());
                cluster._members.Add(new Member(i, port, clusterPorts[i], process));
            }
            foreach (var m in cluster._members) await m.Process.WaitForOutput("Conduit node listening on", 120_000);
            await Eventually.Holds(async () =>
            {
                var state = await cluster.ClusterState(cluster._members[0]);
                Assert.Equal(nodes, state.Members.Count(m => m.Status == "Up" && m.Reachable));
            }, timeoutMs: 120_000, intervalMs: 500);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client of every node that is alive now (it picks one, and moves when that one goes).</summary>
    public ConduitClient Client(TimeSpan requestTimeout) => new(new ConduitClientOptions
    {
        Servers = Alive.Select(m => m.Server).ToList(),
        RequestTimeout = requestTimeout,
        PollTimeoutMargin = requestTimeout,
    });

    public async Task<ClusterState> ClusterState(Member member)
    {
        await using var client = ConduitClient.Connect(member.Server);
        return await client.AskAsync<ClusterState>(ConduitClient.ManagementPath, new GetClusterState(), TimeSpan.FromSeconds(10));
    }

    /// <summary>The partitions (entity ids, <c>ns/queue#p</c>) running on <paramref name="member"/> now, as the node itself says.</summary>
    public async Task<IReadOnlySet<string>> LocalPartitions(Member member)
    {
        await using var client = ConduitClient.Connect(member.Server);
        var local = await client.AskAsync<LocalPartitions>(ConduitClient.ManagementPath, new GetLocalPartitions(), TimeSpan.FromSeconds(10));
        return local.EntityIds.ToHashSet();
    }

    /// <summary>kill -9 of <paramref name="member"/>.</summary>
    public async Task Kill(Member member)
    {
        await member.Process.KillHard();
        member.Killed = true;
    }

    /// <summary>
    /// For each of <paramref name="markers"/>, how long after <paramref name="since"/> (UTC) a living node first logged a
    /// message containing it (the console logger writes the UTC time, <see cref="LogTimestamps"/>, on each entry's first
    /// line and the message on the next); null if none did.
    /// </summary>
    public IReadOnlyList<(string Marker, long? AfterMs)> Timeline(DateTime since, params string[] markers)
    {
        var entries = Alive.SelectMany(m => Entries(m.Process.Output)).ToList();
        return markers.Select(marker =>
        {
            long? first = null;
            foreach (var (at, text) in entries)
            {
                if (!text.Contains(marker, StringComparison.Ordinal) || at < since) continue;
                var ms = (long)(at - since).TotalMilliseconds;
                if (first is null || ms < first) first = ms;
            }
            return (marker, first);
        }).ToList();
    }

    /// <summary>Each log entry of <paramref name="output"/> with its time: a line that starts with one, and the lines after it.</summary>
    private static IEnumerable<(DateTime At, string Text)> Entries(string output)
    {
        DateTime? at = null;
        foreach (var line in output.Split('\n'))
        {
            if (line.Length > TimestampFormat.Length && DateTime.TryParseExact(line.AsSpan(0, TimestampFormat.Length), TimestampFormat,
                    System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var stamped))
                at = stamped;
            if (at is { } time) yield return (time, line);
        }
    }

    /// <summary>Every node's output, for a failure message.</summary>
    public string Output(int tailChars = 6_000) => string.Join("\n", _members.Select(m =>
    {
        var text = m.Process.Output;
        return $"--- node {m.Index} (:{m.Port}){(m.Killed ? " killed" : "")} ---\n" + (text.Length > tailChars ? text[^tailChars..] : text);
    }));

    /// <summary>Writes every node's whole output to <c>node-N.log</c> in a new directory under the temp directory; returns it.</summary>
    public string SaveLogs(string name)
    {
        var directory = Path.Combine(Path.GetTempPath(), "conduit-fault-logs", $"{name}-{DateTime.UtcNow:HHmmss}");
        Directory.CreateDirectory(directory);
        foreach (var m in _members) File.WriteAllText(Path.Combine(directory, $"node-{m.Index}.log"), m.Process.Output);
        return directory;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var m in _members) await m.Process.DisposeAsync();
        await Postgres.DisposeAsync();
    }
}
