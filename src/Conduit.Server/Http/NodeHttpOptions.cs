using Conduit.Server.Configuration;

namespace Conduit.Server.Http;

/// <summary>
/// The node's HTTP listener (section <c>Conduit:Http</c>): liveness and readiness probes (<c>/healthz</c>,
/// <c>/readyz</c>) and the dashboard (<c>/ui/</c>). Plain HTTP, so it listens on loopback unless the operator names
/// another address.
/// </summary>
public sealed record NodeHttpOptions
{
    public const string DefaultHost = "127.0.0.1";
    public const int DefaultPort = WireNames.DefaultHttpPort;

    /// <summary>Address the listener binds: an IP address or <c>localhost</c>. Defaults to 127.0.0.1 (this machine only), whatever the node's host.</summary>
    [Flag("--http-host", "ADDR", "address of the HTTP listener (health, dashboard)"), DeprecatedEnvironmentName("CONDUIT_HTTP_HOST")]
    public string Host { get; init; } = DefaultHost;

    /// <summary>Port of the listener; 0 picks a free one. Defaults to 8053.</summary>
    [Flag("--http-port", "N", "HTTP listener port: /healthz, /readyz, the dashboard (0: a free one)"), DeprecatedEnvironmentName("CONDUIT_HTTP_PORT")]
    public int Port { get; init; } = DefaultPort;

    /// <summary>Run no HTTP listener at all (no probes, no dashboard). Defaults to false.</summary>
    [Flag("--no-http", "", "run no HTTP listener")]
    public bool Disabled { get; init; }
}
