using System.Globalization;
using Conduit.Protocol.Remoting;
using Conduit.Server.Frontend;
using Conduit.Server.Hosting;
using Conduit.Server.Http;
using Conduit.Server.Metrics;
using Conduit.Server.Security;
using Microsoft.Extensions.Configuration;

namespace Conduit.Node;

/// <summary>
/// Reads the node's options from the command line, then configuration (<c>appsettings.json</c>, environment
/// variables <c>CONDUIT_PORT</c>, <c>CONDUIT_CLUSTER_PORT</c>, <c>CONDUIT_HOST</c>, <c>CONDUIT_DATA</c>, <c>CONDUIT_POSTGRES</c>,
/// <c>CONDUIT_ROLES</c>, <c>CONDUIT_SEEDS</c> (comma-separated), <c>CONDUIT_PARTITIONS</c>, <c>CONDUIT_QUEUE_PARTITIONS</c>,
/// <c>CONDUIT_MAX_LIVE_PARTITIONS</c>, <c>CONDUIT_HOCON</c>, <c>CONDUIT_KEYS</c>, <c>CONDUIT_TLS_CERT</c>, <c>CONDUIT_TLS_CERT_PASSWORD</c>,
/// <c>CONDUIT_TLS_CA</c>, <c>CONDUIT_INSECURE</c>, <c>CONDUIT_METRICS_QUEUE_LABELS</c>, <c>CONDUIT_OTLP_ENDPOINT</c>), then defaults.
/// </summary>
public static class NodeCommandLine
{
    public const string Usage = """
        Usage: Conduit.Node [options]
          --port N               client port: clients and the CLI (default 4053; 0: free) env CONDUIT_PORT
          --cluster-port N       cluster port: other nodes only (default 5053; 0: free) env CONDUIT_CLUSTER_PORT
          --host ADDR            address to bind and advertise (default 127.0.0.1)      env CONDUIT_HOST
          --data DIR             SQLite data directory (default ./data)                 env CONDUIT_DATA
          --postgres "CONN"      use PostgreSQL instead of SQLite                       env CONDUIT_POSTGRES
          --roles a,b            frontend and/or taskservice (default both)             env CONDUIT_ROLES
          --seed akka.tcp://conduit-cluster@host:5053   seed node, its cluster port (akka.ssl.tcp:// with TLS);
                                 repeatable (default: none, form a cluster alone)
                                                                                        env CONDUIT_SEEDS
          --partitions N         partitions per queue (default 1; use 4 on a cluster)   env CONDUIT_PARTITIONS
          --queue-partitions q=N[,ns/q=N]   partitions of particular queues (q: in every
                                 namespace; ns/q: in one)                               env CONDUIT_QUEUE_PARTITIONS
          --max-live-partitions N   most queue partitions this node runs at once (default 100000)
                                                                                        env CONDUIT_MAX_LIVE_PARTITIONS
          --http-port N|off      HTTP listener: /healthz, /readyz, /metrics (default 8053; 0: free; off: none)
                                                                                        env CONDUIT_HTTP_PORT
          --http-host ADDR       address of the HTTP listener (default 127.0.0.1, whatever --host says)
                                                                                        env CONDUIT_HTTP_HOST
          --metrics-queue-labels N  most queues with labels of their own in the metrics; the rest
                                 are summed as queue="_other" (default 200; 0..1000)    env CONDUIT_METRICS_QUEUE_LABELS
          --otlp-endpoint URL    also push metrics over OTLP/gRPC, e.g. http://collector:4317
                                 (default: none; /metrics on the HTTP listener either way)
                                                                                        env CONDUIT_OTLP_ENDPOINT
          --hocon FILE           extra HOCON applied over the defaults                   env CONDUIT_HOCON
          --keys FILE.json       API keys and their roles (default: none, auth off; see docs/credentials.md)
                                                                                        env CONDUIT_KEYS
          --tls-cert FILE.pfx    this node's certificate and key (OU=conduit-node); with --tls-ca turns on
                                 mutual TLS on every remoting link (see docs/tls.md)    env CONDUIT_TLS_CERT
          --tls-cert-password P  password of the .pfx (default: none)                   env CONDUIT_TLS_CERT_PASSWORD
          --tls-ca FILE.pem      the Conduit CA every peer must chain to                env CONDUIT_TLS_CA
          --insecure             allow plain TCP on a host that is not loopback         env CONDUIT_INSECURE=true
                                 (without it such a node refuses to start unless TLS is on)
          --help                 this text
        """;

    public sealed class UsageException(string message) : Exception(message);

    public static NodeSettings Parse(string[] args, IConfiguration configuration)
    {
        string? port = null, clusterPort = null, host = null, data = null, postgres = null, roles = null, partitions = null, hocon = null,
            queuePartitions = null, maxLive = null, httpPort = null, httpHost = null, keys = null, tlsCert = null, tlsPassword = null, tlsCa = null,
            queueLabels = null, otlp = null;
        var insecure = false;
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
                case "--cluster-port": clusterPort = Value(); break;
                case "--host": host = Value(); break;
                case "--data": data = Value(); break;
                case "--postgres": postgres = Value(); break;
                case "--roles": roles = Value(); break;
                case "--seed": seeds.Add(Value()); break;
                case "--partitions": partitions = Value(); break;
                case "--queue-partitions": queuePartitions = Value(); break;
                case "--hocon": hocon = Value(); break;
                case "--http-port": httpPort = Value(); break;
                case "--http-host": httpHost = Value(); break;
                case "--max-live-partitions": maxLive = Value(); break;
                case "--keys": keys = Value(); break;
                case "--tls-cert": tlsCert = Value(); break;
                case "--tls-cert-password": tlsPassword = Value(); break;
                case "--tls-ca": tlsCa = Value(); break;
                case "--insecure": insecure = true; break;
                case "--metrics-queue-labels": queueLabels = Value(); break;
                case "--otlp-endpoint": otlp = Value(); break;
                default: throw new UsageException($"unknown option '{arg}'");
            }
        }
        port ??= configuration["CONDUIT_PORT"];
        clusterPort ??= configuration["CONDUIT_CLUSTER_PORT"];
        host ??= configuration["CONDUIT_HOST"];
        data ??= configuration["CONDUIT_DATA"];
        postgres ??= configuration["CONDUIT_POSTGRES"];
        roles ??= configuration["CONDUIT_ROLES"];
        partitions ??= configuration["CONDUIT_PARTITIONS"];
        hocon ??= configuration["CONDUIT_HOCON"];
        httpPort ??= configuration["CONDUIT_HTTP_PORT"];
        httpHost ??= configuration["CONDUIT_HTTP_HOST"];
        queuePartitions ??= configuration["CONDUIT_QUEUE_PARTITIONS"];
        maxLive ??= configuration["CONDUIT_MAX_LIVE_PARTITIONS"];
        keys ??= configuration["CONDUIT_KEYS"];
        tlsCert ??= configuration["CONDUIT_TLS_CERT"];
        tlsPassword ??= configuration["CONDUIT_TLS_CERT_PASSWORD"];
        tlsCa ??= configuration["CONDUIT_TLS_CA"];
        queueLabels ??= configuration["CONDUIT_METRICS_QUEUE_LABELS"];
        otlp ??= configuration["CONDUIT_OTLP_ENDPOINT"];
        if (!insecure && configuration["CONDUIT_INSECURE"] is { Length: > 0 } insecureText)
        {
            insecure = bool.TryParse(insecureText, out var parsed)
                ? parsed
                : throw new UsageException($"CONDUIT_INSECURE must be true or false, not '{insecureText}'");
        }
        if (seeds.Count == 0 && configuration["CONDUIT_SEEDS"] is { Length: > 0 } seedList)
            seeds.AddRange(seedList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

        var portNumber = NodeSettings.DefaultPort;
        if (port is not null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out portNumber) || portNumber > 65535))
            throw new UsageException($"--port must be a number 0..65535, not '{port}'");
        var clusterPortNumber = NodeSettings.DefaultClusterPort;
        if (clusterPort is not null
            && (!int.TryParse(clusterPort, NumberStyles.None, CultureInfo.InvariantCulture, out clusterPortNumber) || clusterPortNumber > 65535))
            throw new UsageException($"--cluster-port must be a number 0..65535, not '{clusterPort}'");
        if (portNumber != 0 && portNumber == clusterPortNumber)
            throw new UsageException($"--port and --cluster-port must differ (both are {portNumber}): clients and nodes use separate endpoints");
        var http = ReadHttp(httpPort, httpHost);
        var metrics = ReadMetrics(queueLabels, otlp);
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
        if (hocon is not null && !File.Exists(hocon)) throw new UsageException($"HOCON file '{hocon}' does not exist");
        var tls = ReadTls(tlsCert, tlsPassword, tlsCa);
        // With TLS, Akka names addresses akka.ssl.tcp://, and a seed must be dialled with that protocol.
        var seedPrefix = $"{RemotingEndpoint.ProtocolFor(tls is not null)}://{NodeSettings.SystemName}@";
        foreach (var seed in seeds)
            if (!seed.StartsWith(seedPrefix, StringComparison.Ordinal))
                throw new UsageException($"seed '{seed}' must look like {seedPrefix}host:{NodeSettings.DefaultClusterPort} (the seed's cluster port)");
        if (keys is { Length: > 0 }) CheckKeysFile(keys);
        var bindHost = host ?? NodeSettings.DefaultHost;
        if (tls is null && !insecure && !IsLoopback(bindHost))
        {
            throw new UsageException(
                $"--host {bindHost} is reachable from other machines, and without TLS anyone who reaches the port can join the " +
                "cluster and read or change every queue. Give --tls-cert and --tls-ca (make them with `conduit certs create`), " +
                "or --insecure to run without TLS on a network you trust");
        }

        return new NodeSettings
        {
            Host = bindHost,
            Port = portNumber,
            ClusterPort = clusterPortNumber,
            Seeds = seeds,
            Storage = postgres is { Length: > 0 } ? StorageOptions.Postgres(postgres) : StorageOptions.Sqlite(data ?? "./data"),
            Server = new ConduitServerOptions
            {
                Roles = roleList, PartitionsPerQueue = partitionCount, QueuePartitions = perQueue, MaxLivePartitionsPerNode = maxLivePartitions,
            },
            ExtraHocon = hocon is null ? null : File.ReadAllText(hocon),
            KeysFile = keys is { Length: > 0 } ? Path.GetFullPath(keys) : null,
            Tls = tls,
            Insecure = insecure,
            Http = http,
            Metrics = metrics,
        };
    }

    /// <summary>The metrics options (<see cref="MetricsOptions"/>), checked now.</summary>
    private static MetricsOptions ReadMetrics(string? queueLabels, string? otlp)
    {
        var options = new MetricsOptions();
        if (queueLabels is not null)
        {
            if (!int.TryParse(queueLabels, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > MetricsOptions.MaxMaxQueueLabels)
                throw new UsageException($"--metrics-queue-labels must be a number 0..{MetricsOptions.MaxMaxQueueLabels}, not '{queueLabels}'");
            options = options with { MaxQueueLabels = n };
        }
        if (otlp is { Length: > 0 })
        {
            if (!Uri.TryCreate(otlp, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new UsageException($"--otlp-endpoint must be an http:// or https:// URL (e.g. http://collector:4317), not '{otlp}'");
            options = options with { OtlpEndpoint = uri };
        }
        return options;
    }

    /// <summary>The HTTP listener's options (null: <c>--http-port off</c>), checked now.</summary>
    private static NodeHttpOptions? ReadHttp(string? port, string? host)
    {
        if (string.Equals(port, "off", StringComparison.OrdinalIgnoreCase)) return null;
        var portNumber = NodeHttpOptions.DefaultPort;
        if (port is not null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out portNumber) || portNumber > 65535))
            throw new UsageException($"--http-port must be a number 0..65535 or off, not '{port}'");
        host ??= NodeHttpOptions.DefaultHost;
        if (!string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) && !System.Net.IPAddress.TryParse(host, out _))
            throw new UsageException($"--http-host must be an IP address or localhost, not '{host}'");
        return new NodeHttpOptions { Host = host, Port = portNumber };
    }

    /// <summary>A keys file that cannot be used stops the node before it starts, with the store's message (file, entry, fix).</summary>
    private static void CheckKeysFile(string path)
    {
        try
        {
            using var store = KeyStore.Load(path, reloadInterval: Timeout.InfiniteTimeSpan);
        }
        catch (KeysFileException e)
        {
            throw new UsageException($"--keys: {e.Message}");
        }
    }
    /// <summary>TLS settings from the options, checked now (files, key, CA, a node certificate of that CA): null without TLS.</summary>
    private static TlsSettings? ReadTls(string? certificate, string? password, string? ca)
    {
        try
        {
            var tls = TlsSettings.FromOptions(certificate, password, ca);
            tls?.Validate(CertificateRole.Node);
            return tls;
        }
        catch (TlsSettingsException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>Whether <paramref name="host"/> is reachable from this machine only: <c>localhost</c> or a loopback address.</summary>
    public static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(host, out var address) && System.Net.IPAddress.IsLoopback(address));
}
