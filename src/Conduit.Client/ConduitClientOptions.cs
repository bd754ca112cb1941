using Conduit.Protocol.Remoting;

namespace Conduit.Client;

/// <summary>How a <see cref="ConduitClient"/> reaches the cluster and how long it waits for answers.</summary>
public sealed class ConduitClientOptions
{
    public const string DefaultServer = "127.0.0.1:4053";
    public const string DefaultNodeSystemName = WireNames.ClientSystemName;
    public const string DefaultLocalHost = "127.0.0.1";
    public const string DefaultNamespace = PartitionId.DefaultNamespace;
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultPollTimeoutMargin = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Contact points, <c>host:port</c> of the client endpoints of any frontend nodes of the cluster (their <c>--port</c>),
    /// or full addresses <c>akka.tcp://conduit@host:port</c>. Defaults to <c>127.0.0.1:4053</c>.
    /// </summary>
    public IList<string> Servers { get; set; } = [DefaultServer];

    /// <summary>ActorSystem name of the nodes' client endpoints. Defaults to <c>conduit</c>.</summary>
    public string NodeSystemName { get; set; } = DefaultNodeSystemName;

    /// <summary>
    /// Address the client binds and announces. Nodes never dial it: answers come back over the connection the client
    /// opened. With <see cref="LocalPort"/> it names this client to the nodes, so no two clients of a node may announce
    /// the same host and port. On the default, the client announces its machine's name and a random part instead
    /// (<c>web-1-3fa2c1</c>), which no other client shares. Defaults to <c>127.0.0.1</c>.
    /// </summary>
    public string LocalHost { get; set; } = DefaultLocalHost;

    /// <summary>Port the client listens on; 0 picks a free one. Defaults to 0.</summary>
    public int LocalPort { get; set; }

    /// <summary>How long a request waits for its answer before <see cref="ConduitTimeoutException"/>. Defaults to 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = DefaultRequestTimeout;

    /// <summary>
    /// A long-poll waits for its own wait time plus this margin. Defaults to 10 s: more than a node's own margin (5 s), so
    /// the node answers first and releases any tasks it is handed too late, instead of leasing them to nobody.
    /// </summary>
    public TimeSpan PollTimeoutMargin { get; set; } = DefaultPollTimeoutMargin;

    /// <summary>
    /// How the client backs off after an <see cref="ErrorCode.Overloaded"/> answer, and which requests it resends by
    /// itself. Defaults to <see cref="OverloadBackoffOptions"/>' defaults: 100 ms doubling to 5 s with jitter, at most 8
    /// resends, never an enqueue without an idempotency key.
    /// </summary>
    public OverloadBackoffOptions OverloadBackoff { get; set; } = new();

    /// <summary>
    /// The namespace every queue request of this client names (enqueue, poll, stats, pause, resume, purge, dead letters):
    /// a queue lives in a namespace, and queues of the same name in two namespaces are separate. Requests about a task id
    /// or lease token go to the namespace in the id, whatever this says. Same rule as queue names
    /// (<c>[a-z0-9][a-z0-9._-]{0,127}</c>). Defaults to <c>default</c>.
    /// </summary>
    public string Namespace { get; set; } = DefaultNamespace;

    /// <summary>
    /// The name this client's polls give the worker (<see cref="Poll.Worker"/>): kept with every delivery in the task
    /// history and shown for running tasks (<c>conduit task get</c>, <c>conduit tasks list --state running</c>). 1 to 128
    /// printable ASCII characters, or null (or empty) to say nothing. Defaults to <see cref="DefaultWorkerName"/>: the machine name
    /// and process id, <c>host:pid</c>.
    /// </summary>
    public string? WorkerName { get; set; } = DefaultWorkerName;

    /// <summary><c>{machine name}:{process id}</c>, or null when the machine's name is not printable ASCII.</summary>
    public static string? DefaultWorkerName { get; } = MakeDefaultWorkerName();

    private static string? MakeDefaultWorkerName()
    {
        var name = $"{Environment.MachineName}:{Environment.ProcessId}";
        return Protocol.WorkerName.IsValid(name) ? name : null;
    }

    /// <summary>Extra HOCON for the client's ActorSystem (logging, remoting tuning). Defaults to none.</summary>
    public string? ExtraHocon { get; set; }

    /// <summary>
    /// The API key (<c>id.secret</c>, made with <c>conduit keys new</c>) sent with every request; nodes with a keys file
    /// refuse requests without a key they know, or whose key lacks the role, with <see cref="ErrorCode.Unauthorized"/>.
    /// Defaults to none (enough for a node without a keys file). Checked for its form when the client starts; the key
    /// itself never appears in an exception or log line.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// This client's certificate and key, PKCS#12 (<c>client-NAME.pfx</c> from <c>conduit certs</c>). With
    /// <see cref="TlsCaPath"/> it turns on mutual TLS: the client shows this certificate and talks only to nodes whose
    /// certificate chains to the CA and is a node certificate (<c>OU=conduit-node</c>). Defaults to null: plain TCP.
    /// </summary>
    public string? TlsCertificatePath { get; set; }

    /// <summary>Password of <see cref="TlsCertificatePath"/>. Defaults to null: the file has none.</summary>
    public string? TlsCertificatePassword { get; set; }

    /// <summary>The Conduit CA (<c>ca.pem</c>) the nodes' certificates must chain to. Defaults to null: plain TCP.</summary>
    public string? TlsCaPath { get; set; }

    /// <summary>
    /// The TLS settings these options name, null without TLS; throws <see cref="ArgumentException"/> when only one of
    /// certificate and CA is given. Files are not read here (<see cref="LoadTls"/> does).
    /// </summary>
    public TlsSettings? ToTlsSettings()
    {
        try
        {
            return TlsSettings.FromOptions(TlsCertificatePath, TlsCertificatePassword, TlsCaPath,
                nameof(TlsCertificatePath), nameof(TlsCaPath));
        }
        catch (TlsSettingsException e)
        {
            throw new ArgumentException(e.Message, nameof(TlsCertificatePath), e);
        }
    }

    /// <summary>
    /// Reads and checks the TLS files (they exist, the key is there, the certificate chains to the CA): what the client's
    /// ActorSystem is built with (<see cref="RemotingEndpoint.Tls"/>). Null without TLS; <see cref="ArgumentException"/>
    /// saying which file is wrong otherwise.
    /// </summary>
    public TlsCredentials? LoadTls()
    {
        var settings = ToTlsSettings();
        try
        {
            return settings?.Load();
        }
        catch (TlsSettingsException e)
        {
            throw new ArgumentException(e.Message, nameof(TlsCertificatePath), e);
        }
    }

    /// <param name="tlsFiles">Also read the TLS files to check them; the client itself skips this, since it loads them next.</param>
    internal void Validate(bool tlsFiles = true)
    {
        if (ApiKey is not null && Protocol.Security.ApiKey.Problem(ApiKey) is { } problem) throw new ArgumentException(problem, nameof(ApiKey));
        if (Servers is null || Servers.Count == 0) throw new ArgumentException("at least one server (host:port) is needed", nameof(Servers));
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentException("must be positive", nameof(RequestTimeout));
        if (PollTimeoutMargin < TimeSpan.Zero) throw new ArgumentException("must not be negative", nameof(PollTimeoutMargin));
        if (OverloadBackoff is null) throw new ArgumentException("must be set", nameof(OverloadBackoff));
        OverloadBackoff.Validate();
        if (LocalPort is < 0 or > 65535) throw new ArgumentException("must be 0-65535", nameof(LocalPort));
        if (!NamespaceName.IsValid(Namespace)) throw new ArgumentException(NamespaceName.Describe(SafeText.Escape(Namespace, 140)), nameof(Namespace));
        if (WorkerName is { Length: > 0 } && !Protocol.WorkerName.IsValid(WorkerName)) throw new ArgumentException(Protocol.WorkerName.Describe(WorkerName), nameof(WorkerName));
        foreach (var server in Servers) ContactPoints.ToNodeAddress(server, NodeSystemName);
        if (tlsFiles) LoadTls()?.Dispose();
        else ToTlsSettings();
    }
}
