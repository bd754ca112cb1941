using Conduit.Protocol.Remoting;
using Conduit.Server.Hosting;
using Conduit.Server.Security;
using Microsoft.Extensions.Configuration;

namespace Conduit.Server.Configuration;

/// <summary>
/// Checks a node's options before anything starts and turns them into the <see cref="NodeSettings"/> it runs with: ports,
/// roles, seeds, partition counts, the policy of partitions and of each queue, the gateway's bounds, the TLS files, the
/// keys file, the HOCON file, and no plain TCP off loopback without <c>--insecure</c>. The first problem is an
/// <see cref="OptionsException"/> that names the option as it was given (<see cref="OptionNames"/>).
/// </summary>
public static class NodeSettingsFactory
{
    internal const string QueueCountRule = "wants queue=N pairs, or namespace/queue=N for one namespace (N 1..1024)";

    /// <summary>Binds (<see cref="NodeConfiguration.Bind"/>) and checks the node's options from <paramref name="configuration"/>.</summary>
    public static (ConduitNodeOptions Options, NodeSettings Settings) FromConfiguration(IConfiguration configuration)
    {
        var options = NodeConfiguration.Bind(configuration);
        return (options, Create(options, configuration));
    }

    /// <param name="configuration">Where the options came from, to name an option as it was given; null names them by key.</param>
    public static NodeSettings Create(ConduitNodeOptions options, IConfiguration? configuration = null)
    {
        configuration ??= new ConfigurationBuilder().Build();
        string K(string relative) => $"{ConduitNodeOptions.SectionName}:{relative}";
        OptionsException Bad(string relative, string problem) => new(OptionNames.Describe(configuration, K(relative), problem));

        if (options.Port is < 0 or > 65535) throw Bad(nameof(options.Port), $"must be a number 0..65535, not '{options.Port}'");
        if (options.ClusterPort is < 0 or > 65535) throw Bad(nameof(options.ClusterPort), $"must be a number 0..65535, not '{options.ClusterPort}'");
        if (options.Port != 0 && options.Port == options.ClusterPort)
            throw new OptionsException($"--port and --cluster-port must differ (both are {options.Port}): clients and nodes use separate endpoints");
        if (options.Partitions is < 1 or > ConduitNodeOptions.MaxPartitions)
            throw Bad(nameof(options.Partitions), $"must be 1..{ConduitNodeOptions.MaxPartitions}, not '{options.Partitions}'");
        foreach (var (queue, count) in options.QueuePartitions)
            if (!Frontend.QueueTopology.IsValidQueueKey(queue) || count is < 1 or > ConduitNodeOptions.MaxPartitions)
                throw Bad(nameof(options.QueuePartitions), $"{QueueCountRule}, not '{SafeText.Escape(queue, 200)}={count}'");
        if (options.MaxLivePartitions < 1)
            throw Bad(nameof(options.MaxLivePartitions), $"must be a number of at least 1, not '{options.MaxLivePartitions}'");
        if (options.MaxSchedulesPerNamespace < 1)
            throw Bad(nameof(options.MaxSchedulesPerNamespace), $"must be a number of at least 1, not '{options.MaxSchedulesPerNamespace}'");
        if (options.TaskHistoryHours is < 0 or > 24 * 365)
            throw Bad(nameof(options.TaskHistoryHours), $"must be 0 (no task history) to 8760 hours, not '{options.TaskHistoryHours}'");
        if (options.MaxShards < 1) throw Bad(nameof(options.MaxShards), $"must be at least 1, not '{options.MaxShards}'");
        if (options.PollProbeMs < 1) throw Bad(nameof(options.PollProbeMs), $"must be at least 1 ms, not '{options.PollProbeMs}'");
        if (options.Roles.Count == 0) throw Bad(nameof(options.Roles), "needs at least one role");
        foreach (var role in options.Roles)
            if (role is not (ConduitServerOptions.FrontendRole or ConduitServerOptions.TaskServiceRole))
                throw Bad(nameof(options.Roles), $": unknown role '{SafeText.Escape(role, 100)}': use frontend and/or taskservice");

        foreach (var (option, problem) in options.Partition.Problems())
            throw Bad($"{nameof(options.Partition)}:{option}", $"{problem}, not '{OptionCatalog.Describe(typeof(Matching.PartitionOptions).GetProperty(option)!.GetValue(options.Partition))}'");
        foreach (var (queue, overrides) in options.Queues)
        {
            var effective = overrides.ApplyTo(options.Partition);
            foreach (var (option, problem) in effective.Problems())
            {
                var field = option == nameof(Matching.PartitionOptions.DefaultMaxAttempts) ? nameof(QueueOverrides.MaxAttempts) : option;
                throw Bad($"{nameof(options.Queues)}:{queue}:{field}", $"{problem} (with this queue's overrides)");
            }
        }
        try
        {
            options.Gateway.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw Bad($"{nameof(options.Gateway)}:{e.ParamName}", $"{e.Message.Split(" (Parameter", 2)[0]}, not '{e.ActualValue}'");
        }
        try
        {
            options.Connections.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw Bad($"{nameof(options.Connections)}:{e.ParamName}", $"{e.Message.Split(" (Parameter", 2)[0]}, not '{e.ActualValue}'");
        }

        var metrics = options.Metrics;
        if (metrics.MaxQueueLabels is < 0 or > Metrics.MetricsOptions.MaxMaxQueueLabels)
            throw Bad("Metrics:MaxQueueLabels", $"must be a number 0..{Metrics.MetricsOptions.MaxMaxQueueLabels}, not '{metrics.MaxQueueLabels}'");
        if (metrics.OtlpEndpoint is { } otlp && otlp.Scheme is not ("http" or "https"))
            throw Bad("Metrics:OtlpEndpoint", $"must be an http:// or https:// URL, not '{SafeText.Escape(otlp.ToString(), 200)}'");
        if (metrics.OtlpExportIntervalMs < 1000)
            throw Bad("Metrics:OtlpExportIntervalMs", $"must be at least 1000 ms, not '{metrics.OtlpExportIntervalMs}'");
        if (options.Http.Port is < 0 or > 65535) throw Bad("Http:Port", $"must be a number 0..65535, not '{options.Http.Port}'");
        if (!string.Equals(options.Http.Host, "localhost", StringComparison.OrdinalIgnoreCase) && !System.Net.IPAddress.TryParse(options.Http.Host, out _))
            throw Bad("Http:Host", $"must be an IP address or localhost, not '{SafeText.Escape(options.Http.Host, 100)}'");
        if (options.Hocon is { Length: > 0 } hocon && !File.Exists(hocon))
            throw Bad(nameof(options.Hocon), $": HOCON file '{hocon}' does not exist");
        var tls = ReadTls(options.Tls);
        // Parsed here (PostgresDefaults fills in settings), so a malformed string is refused like any bad option. Npgsql's
        // messages name the key at fault, never a value, so the password stays out of the refusal.
        StorageOptions PostgresStorage(string connectionString)
        {
            try
            {
                return StorageOptions.Postgres(connectionString);
            }
            catch (ArgumentException e)
            {
                throw Bad(nameof(options.Postgres), $"is not a valid Npgsql connection string: {SafeText.Escape(e.Message, 200)}");
            }
        }
        // With TLS, Akka names addresses akka.ssl.tcp://, and a seed must be dialled with that protocol.
        var seedPrefix = $"{RemotingEndpoint.ProtocolFor(tls is not null)}://{NodeSettings.SystemName}@";
        foreach (var seed in options.Seeds)
            if (!seed.StartsWith(seedPrefix, StringComparison.Ordinal))
                throw Bad(nameof(options.Seeds), $": seed '{SafeText.Escape(seed, 200)}' must look like {seedPrefix}host:{NodeSettings.DefaultClusterPort} (the seed's cluster port)");
        if (options.Keys is { Length: > 0 } keys) CheckKeysFile(keys, OptionNames.Who(configuration, K(nameof(options.Keys))));
        if (tls is null && !options.Insecure && !NodeAddresses.IsLoopback(options.Host))
        {
            throw new OptionsException(
                $"--host {options.Host} is reachable from other machines, and without TLS anyone who reaches the port can join the " +
                "cluster and read or change every queue. Give --tls-cert and --tls-ca (make them with `conduit certs create`), " +
                "or --insecure to run without TLS on a network you trust");
        }

        return new NodeSettings
        {
            Host = options.Host,
            Port = options.Port,
            ClusterPort = options.ClusterPort,
            Seeds = options.Seeds,
            FormClusterAlone = options.FormClusterAlone,
            Storage = options.Postgres is { Length: > 0 } postgres ? PostgresStorage(postgres) : StorageOptions.Sqlite(options.Data),
            Server = new ConduitServerOptions
            {
                Roles = options.Roles,
                PartitionsPerQueue = options.Partitions,
                QueuePartitions = options.QueuePartitions,
                MaxLivePartitionsPerNode = options.MaxLivePartitions,
                MaxSchedulesPerNamespace = options.MaxSchedulesPerNamespace,
                History = new History.TaskHistoryOptions { RetentionMs = (long)(options.TaskHistoryHours * 3_600_000) },
                MaxShards = options.MaxShards,
                PollProbeMs = options.PollProbeMs,
                Partition = options.Partition,
                Gateway = options.Gateway,
                Queues = options.Queues,
            },
            ExtraHocon = options.Hocon is { Length: > 0 } file ? File.ReadAllText(file) : null,
            KeysFile = options.Keys is { Length: > 0 } k ? Path.GetFullPath(k) : null,
            Tls = tls,
            Insecure = options.Insecure,
            LogFormat = options.Logging.Format,
            Http = options.Http.Disabled ? null : options.Http,
            Metrics = options.Metrics,
            Connections = options.Connections,
        };
    }

    /// <summary>A keys file that cannot be used stops the node before it starts, with the store's message (file, entry, fix).</summary>
    private static void CheckKeysFile(string path, string who)
    {
        try
        {
            using var store = KeyStore.Load(path, reloadInterval: Timeout.InfiniteTimeSpan);
        }
        catch (KeysFileException e)
        {
            throw new OptionsException($"{who}: {e.Message}");
        }
    }

    /// <summary>TLS settings from the options, checked now (files, key, CA, a node certificate of that CA): null without TLS.</summary>
    private static TlsSettings? ReadTls(NodeTlsOptions options)
    {
        try
        {
            var tls = TlsSettings.FromOptions(options.Cert, options.CertPassword, options.Ca);
            tls?.Validate(CertificateRole.Node);
            return tls;
        }
        catch (TlsSettingsException e)
        {
            throw new OptionsException(e.Message);
        }
    }
}

/// <summary>What a bind address reaches.</summary>
public static class NodeAddresses
{
    /// <summary>Whether <paramref name="host"/> is reachable from this machine only: <c>localhost</c> or a loopback address.</summary>
    public static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(host, out var address) && System.Net.IPAddress.IsLoopback(address));
}
