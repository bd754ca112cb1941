using System.Globalization;

namespace Conduit.Cli;

/// <summary>
/// Where a node listens: <c>host:port</c> (its remoting address; the node's actor system is named <c>conduit</c>).
/// Use the host the node advertises, as its log prints it: Akka drops messages addressed to another name for the node.
/// </summary>
public readonly record struct ServerAddress(string Host, int Port)
{
    public const string SystemName = "conduit";
    public const string DefaultText = "127.0.0.1:4053";
    public const string EnvironmentVariable = "CONDUIT_SERVER";

    public static ServerAddress Default => new("127.0.0.1", 4053);

    /// <summary>The node's actor system address, <c>akka.tcp://conduit@host:port</c>.</summary>
    public string AkkaAddress => string.Create(CultureInfo.InvariantCulture, $"akka.tcp://{SystemName}@{Host}:{Port}");

    /// <summary>The node's actor system address as a peer with or without TLS dials it (<c>akka.ssl.tcp://…</c> with TLS).</summary>
    public string AkkaAddressWith(bool tls) => Conduit.Protocol.Remoting.RemotingEndpoint.Address(tls, SystemName, Host, Port);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}");

    /// <summary>Accepts <c>host:port</c> or a full <c>akka.tcp://conduit@host:port</c> (or <c>akka.ssl.tcp://…</c>).</summary>
    public static bool TryParse(string? text, out ServerAddress address)
    {
        address = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var prefix = $"akka.tcp://{SystemName}@";
        var tlsPrefix = $"akka.ssl.tcp://{SystemName}@";
        if (text.StartsWith(prefix, StringComparison.Ordinal)) text = text[prefix.Length..];
        else if (text.StartsWith(tlsPrefix, StringComparison.Ordinal)) text = text[tlsPrefix.Length..];
        else if (text.Contains("://", StringComparison.Ordinal)) return false;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) return false;
        var host = text[..colon];
        if (host.Contains('/') || host.Contains('@')) return false;
        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535) return false;
        address = new ServerAddress(host, port);
        return true;
    }
}
