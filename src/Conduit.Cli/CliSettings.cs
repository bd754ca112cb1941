using System.Text;

namespace Conduit.Cli;

/// <summary>The global options, after parsing.</summary>
public sealed record CliSettings
{
    /// <summary>Default for <see cref="Timeout"/>: 10 seconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The node to talk to. Defaults to <c>127.0.0.1:4053</c>, or <c>CONDUIT_SERVER</c> when set.</summary>
    public ServerAddress Server { get; init; } = ServerAddress.Default;

    /// <summary>
    /// The namespace of every queue a command names (queue, dlq, enqueue, poll, and the queue of a task's commands'
    /// requests; task ids and lease tokens carry their own). Defaults to <c>default</c>, or <c>CONDUIT_NAMESPACE</c> when set.
    /// </summary>
    public string Namespace { get; init; } = PartitionId.DefaultNamespace;

    /// <summary>Print one JSON document on stdout instead of tables. Defaults to false.</summary>
    public bool Json { get; init; }

    /// <summary>
    /// How long to wait for the node: to connect, and for each answer (a poll waits its <c>--wait</c> on top).
    /// Defaults to <see cref="DefaultTimeout"/> (10 s).
    /// </summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>
    /// Mutual TLS to the node (<c>--tls-cert</c>, <c>--tls-cert-password</c>, <c>--tls-ca</c>, or <c>CONDUIT_TLS_*</c>),
    /// checked when read. Defaults to null: plain TCP.
    /// </summary>
    public Conduit.Protocol.Remoting.TlsSettings? Tls { get; init; }

    /// <summary>Who is asking, logged by the node for destructive commands: the OS user and host name.</summary>
    public Requester Requester { get; init; } = new(Environment.UserName, Environment.MachineName);

    /// <summary>
    /// The API key (<c>id.secret</c>) sent with every request, from <c>--api-key</c> or <c>CONDUIT_API_KEY</c>. Defaults to
    /// none (a node without a keys file needs none). Never printed: <see cref="ToString"/> shows the id only.
    /// </summary>
    public string? ApiKey { get; init; }

    /// <summary>Every setting, with the API key shown by its id only.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder("CliSettings { ");
        if ((this with { ApiKey = Protocol.Security.ApiKey.Describe(ApiKey) }).PrintMembers(builder)) builder.Append(' ');
        return builder.Append('}').ToString();
    }
}
