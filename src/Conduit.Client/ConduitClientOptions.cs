namespace Conduit.Client;

/// <summary>How a <see cref="ConduitClient"/> reaches the cluster and how long it waits for answers.</summary>
public sealed class ConduitClientOptions
{
    public const string DefaultServer = "127.0.0.1:4053";
    public const string DefaultNodeSystemName = WireNames.ClientSystemName;
    public const string DefaultLocalHost = "127.0.0.1";
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

    /// <summary>Extra HOCON for the client's ActorSystem (logging, remoting tuning). Defaults to none.</summary>
    public string? ExtraHocon { get; set; }

    /// <summary>
    /// The API key (<c>id.secret</c>, made with <c>conduit keys new</c>) sent with every request; nodes with a keys file
    /// refuse requests without a key they know, or whose key lacks the role, with <see cref="ErrorCode.Unauthorized"/>.
    /// Defaults to none (enough for a node without a keys file). Checked for its form when the client starts; the key
    /// itself never appears in an exception or log line.
    /// </summary>
    public string? ApiKey { get; set; }

    internal void Validate()
    {
        if (ApiKey is not null && Protocol.Security.ApiKey.Problem(ApiKey) is { } problem) throw new ArgumentException(problem, nameof(ApiKey));
        if (Servers is null || Servers.Count == 0) throw new ArgumentException("at least one server (host:port) is needed", nameof(Servers));
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentException("must be positive", nameof(RequestTimeout));
        if (PollTimeoutMargin < TimeSpan.Zero) throw new ArgumentException("must not be negative", nameof(PollTimeoutMargin));
        if (LocalPort is < 0 or > 65535) throw new ArgumentException("must be 0-65535", nameof(LocalPort));
        foreach (var server in Servers) ContactPoints.ToNodeAddress(server, NodeSystemName);
    }
}
