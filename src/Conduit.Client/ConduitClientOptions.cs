namespace Conduit.Client;

/// <summary>How a <see cref="ConduitClient"/> reaches the cluster and how long it waits for answers.</summary>
public sealed class ConduitClientOptions
{
    public const string DefaultServer = "127.0.0.1:4053";
    public const string DefaultClusterSystemName = "conduit";
    public const string DefaultLocalHost = "127.0.0.1";
    public const string DefaultNamespace = PartitionId.DefaultNamespace;
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultPollTimeoutMargin = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Contact points, <c>host:port</c> of any nodes of the cluster (or full receptionist paths
    /// <c>akka.tcp://conduit@host:port/system/receptionist</c>). Defaults to <c>127.0.0.1:4053</c>.
    /// </summary>
    public IList<string> Servers { get; set; } = [DefaultServer];

    /// <summary>ActorSystem name of the cluster's nodes. Defaults to <c>conduit</c>.</summary>
    public string ClusterSystemName { get; set; } = DefaultClusterSystemName;

    /// <summary>
    /// Address the client binds and advertises; the nodes send replies back to it, so it must be reachable
    /// from them. Defaults to <c>127.0.0.1</c>.
    /// </summary>
    public string LocalHost { get; set; } = DefaultLocalHost;

    /// <summary>Port the client listens on; 0 picks a free one. Defaults to 0.</summary>
    public int LocalPort { get; set; }

    /// <summary>How long a request waits for its answer before <see cref="ConduitTimeoutException"/>. Defaults to 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = DefaultRequestTimeout;

    /// <summary>A long-poll waits for its own wait time plus this margin. Defaults to 10 s.</summary>
    public TimeSpan PollTimeoutMargin { get; set; } = DefaultPollTimeoutMargin;

    /// <summary>
    /// The namespace every queue request of this client names (enqueue, poll, stats, pause, resume, purge, dead letters):
    /// a queue lives in a namespace, and queues of the same name in two namespaces are separate. Requests about a task id
    /// or lease token go to the namespace in the id, whatever this says. Same rule as queue names
    /// (<c>[a-z0-9][a-z0-9._-]{0,127}</c>). Defaults to <c>default</c>.
    /// </summary>
    public string Namespace { get; set; } = DefaultNamespace;

    /// <summary>Extra HOCON for the client's ActorSystem (logging, ClusterClient tuning). Defaults to none.</summary>
    public string? ExtraHocon { get; set; }

    internal void Validate()
    {
        if (Servers is null || Servers.Count == 0) throw new ArgumentException("at least one server (host:port) is needed", nameof(Servers));
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentException("must be positive", nameof(RequestTimeout));
        if (PollTimeoutMargin < TimeSpan.Zero) throw new ArgumentException("must not be negative", nameof(PollTimeoutMargin));
        if (LocalPort is < 0 or > 65535) throw new ArgumentException("must be 0-65535", nameof(LocalPort));
        if (!NamespaceName.IsValid(Namespace)) throw new ArgumentException(NamespaceName.Describe(SafeText.Escape(Namespace, 140)), nameof(Namespace));
        foreach (var server in Servers) ContactPoints.ToReceptionistPath(server, ClusterSystemName);
    }
}
