using System.Globalization;

namespace Conduit.Cli;

/// <summary>
/// A node's <c>host:port</c>: for <c>--server</c> its client endpoint (<c>--port</c>, the actor system named <c>conduit</c>),
/// for the membership commands a member's cluster endpoint (<c>--cluster-port</c>, named <c>conduit-cluster</c>).
/// Use the host the node advertises, as its log prints it: Akka drops messages addressed to another name for the node.
/// </summary>
public readonly record struct ServerAddress(string Host, int Port)
{
    public const string SystemName = WireNames.ClientSystemName;
    public const string DefaultText = "127.0.0.1:4053";
    public const string EnvironmentVariable = "CONDUIT_SERVER";

    public static ServerAddress Default => new("127.0.0.1", 4053);

    /// <summary>The node's client endpoint address, <c>akka.tcp://conduit@host:port</c>.</summary>
    public string AkkaAddress => string.Create(CultureInfo.InvariantCulture, $"akka.tcp://{SystemName}@{Host}:{Port}");

    /// <summary>As a cluster member's address, <c>akka.tcp://conduit-cluster@host:port</c>.</summary>
    public string MemberAddress => string.Create(CultureInfo.InvariantCulture, $"akka.tcp://{WireNames.ClusterSystemName}@{Host}:{Port}");

    /// <summary>The node's actor system address as a peer with or without TLS dials it (<c>akka.ssl.tcp://…</c> with TLS).</summary>
    public string AkkaAddressWith(bool tls) => Conduit.Protocol.Remoting.RemotingEndpoint.Address(tls, SystemName, Host, Port);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}");

    /// <summary>Accepts <c>host:port</c> or a full <c>akka.tcp://conduit@host:port</c> or <c>akka.tcp://conduit-cluster@host:port</c> (or <c>akka.ssl.tcp://…</c>).</summary>
    public static bool TryParse(string? text, out ServerAddress address)
    {
        address = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        string[] prefixes = [$"akka.tcp://{SystemName}@", $"akka.tcp://{WireNames.ClusterSystemName}@", $"akka.ssl.tcp://{SystemName}@", $"akka.ssl.tcp://{WireNames.ClusterSystemName}@"];
        if (prefixes.FirstOrDefault(p => text.StartsWith(p, StringComparison.Ordinal)) is { } prefix) text = text[prefix.Length..];
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
