using System.Globalization;
using Conduit.Server.Frontend;
using Conduit.Server.Hosting;
using Microsoft.Extensions.Configuration;

namespace Conduit.Node;

/// <summary>
/// Reads the node's options from the command line, then configuration (<c>appsettings.json</c>, environment
/// variables <c>CONDUIT_PORT</c>, <c>CONDUIT_HOST</c>, <c>CONDUIT_DATA</c>, <c>CONDUIT_POSTGRES</c>,
/// <c>CONDUIT_ROLES</c>, <c>CONDUIT_SEEDS</c> (comma-separated), <c>CONDUIT_PARTITIONS</c>, <c>CONDUIT_QUEUE_PARTITIONS</c>,
/// <c>CONDUIT_MAX_LIVE_PARTITIONS</c>, <c>CONDUIT_HOCON</c>), then defaults.
/// </summary>
public static class NodeCommandLine
{
    public const string Usage = """
        Usage: Conduit.Node [options]
          --port N               remoting port (default 4053; 0 picks a free one)       env CONDUIT_PORT
          --host ADDR            address to bind and advertise (default 127.0.0.1)      env CONDUIT_HOST
          --data DIR             SQLite data directory (default ./data)                 env CONDUIT_DATA
          --postgres "CONN"      use PostgreSQL instead of SQLite                       env CONDUIT_POSTGRES
          --roles a,b            frontend and/or taskservice (default both)             env CONDUIT_ROLES
          --seed akka.tcp://conduit@host:port   seed node; repeatable (default: none, form a cluster alone)
                                                                                        env CONDUIT_SEEDS
          --partitions N         partitions per queue (default 1; use 4 on a cluster)   env CONDUIT_PARTITIONS
          --queue-partitions q=N[,ns/q=N]   partitions of particular queues (q: in every
                                 namespace; ns/q: in one)                               env CONDUIT_QUEUE_PARTITIONS
          --max-live-partitions N   most queue partitions this node runs at once (default 100000)
                                                                                        env CONDUIT_MAX_LIVE_PARTITIONS
          --hocon FILE           extra HOCON applied over the defaults                   env CONDUIT_HOCON
          --help                 this text
        """;

    public sealed class UsageException(string message) : Exception(message);

    public static NodeSettings Parse(string[] args, IConfiguration configuration)
    {
        string? port = null, host = null, data = null, postgres = null, roles = null, partitions = null, hocon = null, queuePartitions = null,
            maxLive = null;
        var seeds = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Value() => i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                ? args[++i]
                : throw new UsageException($"{arg} needs a value");
            switch (arg)
            {
                case "--port": port = Value(); break;
                case "--host": host = Value(); break;
                case "--data": data = Value(); break;
                case "--postgres": postgres = Value(); break;
                case "--roles": roles = Value(); break;
                case "--seed": seeds.Add(Value()); break;
                case "--partitions": partitions = Value(); break;
                case "--queue-partitions": queuePartitions = Value(); break;
                case "--hocon": hocon = Value(); break;
                case "--max-live-partitions": maxLive = Value(); break;
                default: throw new UsageException($"unknown option '{arg}'");
            }
        }
        port ??= configuration["CONDUIT_PORT"];
        host ??= configuration["CONDUIT_HOST"];
        data ??= configuration["CONDUIT_DATA"];
        postgres ??= configuration["CONDUIT_POSTGRES"];
        roles ??= configuration["CONDUIT_ROLES"];
        partitions ??= configuration["CONDUIT_PARTITIONS"];
        hocon ??= configuration["CONDUIT_HOCON"];
        queuePartitions ??= configuration["CONDUIT_QUEUE_PARTITIONS"];
        maxLive ??= configuration["CONDUIT_MAX_LIVE_PARTITIONS"];
        if (seeds.Count == 0 && configuration["CONDUIT_SEEDS"] is { Length: > 0 } seedList)
            seeds.AddRange(seedList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

        var portNumber = NodeSettings.DefaultPort;
        if (port is not null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out portNumber) || portNumber > 65535))
            throw new UsageException($"--port must be a number 0..65535, not '{port}'");
        var partitionCount = 1;
        if (partitions is not null && (!int.TryParse(partitions, NumberStyles.None, CultureInfo.InvariantCulture, out partitionCount) || partitionCount is < 1 or > 1024))
            throw new UsageException($"--partitions must be 1..1024, not '{partitions}'");
        var maxLivePartitions = ConduitServerOptions.DefaultMaxLivePartitionsPerNode;
        if (maxLive is not null && (!int.TryParse(maxLive, NumberStyles.None, CultureInfo.InvariantCulture, out maxLivePartitions) || maxLivePartitions < 1))
            throw new UsageException($"--max-live-partitions must be a number of at least 1, not '{maxLive}'");
        var perQueue = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var pair in (queuePartitions ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0 || !QueueTopology.IsValidQueueKey(pair[..eq])
                || !int.TryParse(pair.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > 1024)
                throw new UsageException($"--queue-partitions wants queue=N pairs, or namespace/queue=N for one namespace (N 1..1024), not '{pair}'");
            perQueue[pair[..eq]] = n;
        }
        var roleList = roles is null
            ? [ConduitServerOptions.FrontendRole, ConduitServerOptions.TaskServiceRole]
            : roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var role in roleList)
            if (role is not (ConduitServerOptions.FrontendRole or ConduitServerOptions.TaskServiceRole))
                throw new UsageException($"unknown role '{role}': use frontend and/or taskservice");
        if (roleList.Length == 0) throw new UsageException("--roles needs at least one role");
        foreach (var seed in seeds)
            if (!seed.StartsWith($"akka.tcp://{NodeSettings.SystemName}@", StringComparison.Ordinal))
                throw new UsageException($"seed '{seed}' must look like akka.tcp://{NodeSettings.SystemName}@host:port");
        if (hocon is not null && !File.Exists(hocon)) throw new UsageException($"HOCON file '{hocon}' does not exist");

        return new NodeSettings
        {
            Host = host ?? NodeSettings.DefaultHost,
            Port = portNumber,
            Seeds = seeds,
            Storage = postgres is { Length: > 0 } ? StorageOptions.Postgres(postgres) : StorageOptions.Sqlite(data ?? "./data"),
            Server = new ConduitServerOptions
            {
                Roles = roleList, PartitionsPerQueue = partitionCount, QueuePartitions = perQueue, MaxLivePartitionsPerNode = maxLivePartitions,
            },
            ExtraHocon = hocon is null ? null : File.ReadAllText(hocon),
        };
    }
}
