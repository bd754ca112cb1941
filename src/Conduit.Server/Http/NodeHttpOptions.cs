namespace Conduit.Server.Http;

/// <summary>
/// The node's HTTP listener: liveness and readiness probes (<c>/healthz</c>, <c>/readyz</c>), and what later features
/// mount beside them. Plain HTTP, so it listens on loopback unless the operator names another address.
/// </summary>
public sealed record NodeHttpOptions
{
    public const string DefaultHost = "127.0.0.1";
    public const int DefaultPort = WireNames.DefaultHttpPort;

    /// <summary>Address the listener binds. Defaults to 127.0.0.1 (this machine only), whatever the node's <c>--host</c>.</summary>
    public string Host { get; init; } = DefaultHost;
    /// <summary>Port of the listener; 0 picks a free one. Defaults to 8053.</summary>
    public int Port { get; init; } = DefaultPort;
}
