using System.Globalization;

namespace Conduit.Protocol;

/// <summary>Sizes that nodes, the client library and the CLI must agree on: the wire contract, in one place.</summary>
public static class WireLimits
{
    /// <summary>
    /// Largest remoting frame (<c>akka.remote.dot-netty.tcp.maximum-frame-size</c>) on every node, client and CLI: 8 MiB.
    /// A larger message is dropped by remoting, so nothing Conduit sends may come near it.
    /// </summary>
    public const int MaximumFrameBytes = 8 << 20;

    /// <summary>The frame size as HOCON wants it.</summary>
    public static string MaximumFrameBytesHocon => MaximumFrameBytes.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Most bytes of one reply, half a frame: a poll hands out fewer tasks and a dead-letter list pages rather than send
    /// a reply nobody would receive.
    /// </summary>
    public const int MaxReplyBytes = MaximumFrameBytes / 2;

    /// <summary>
    /// Most ids (lease tokens, task ids) one request may name, and most tasks one poll may ask for with a node's default
    /// options: 1000. The client library splits or caps what it sends to stay within it.
    /// </summary>
    public const int MaxIdsPerRequest = 1000;
}
