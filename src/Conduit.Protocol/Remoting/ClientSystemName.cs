using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Conduit.Protocol.Remoting;

/// <summary>
/// The ActorSystem name of a client (<c>ConduitClient</c>, the CLI): its kind and 128 random bits,
/// <c>conduit-client-3fa2…</c>. A node's client endpoint knows a client by the address the client announces, and Akka
/// does not check that address against the connection: a peer that announced a connected client's whole address made
/// the endpoint quarantine that client's system for good (Akka takes the newcomer for the client restarted), so the
/// client was never answered again. Host and port can be seen or guessed; the random part cannot, so it is kept out of
/// everything a node shows (<see cref="Redact"/>: logs, audit lines, the requester of a schedule change).
/// </summary>
public static partial class ClientSystemName
{
    /// <summary>Random bytes in a name: 16 (32 hex digits).</summary>
    public const int RandomBytes = 16;

    /// <summary>A new name of the kind <paramref name="kind"/> (<see cref="WireNames.ClientLibrarySystemName"/> or <see cref="WireNames.CliSystemName"/>).</summary>
    public static string New(string kind) =>
        $"{kind}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(RandomBytes)).ToLowerInvariant()}";

    /// <summary>
    /// <paramref name="text"/> without the random part of any client system name in it: <c>akka.tcp://conduit-client-3fa2…@web-1:40000</c>
    /// becomes <c>akka.tcp://conduit-client@web-1:40000</c>, in URL-encoded actor paths too. Null stays null.
    /// </summary>
    [return: NotNullIfNotNull(nameof(text))]
    public static string? Redact(string? text) =>
        text is null ? null
        : text.Contains(WireNames.ClientLibrarySystemName, StringComparison.Ordinal) || text.Contains(WireNames.CliSystemName, StringComparison.Ordinal)
            ? RandomPart().Replace(text, "")
            : text;

    // A name starts the text, or follows a character no system name has, or an encoded slash (actor paths in actor names).
    [GeneratedRegex(@"(?<=(?:^|[^A-Za-z0-9_-]|%2F)(?:" + WireNames.ClientLibrarySystemName + "|" + WireNames.CliSystemName + @"))-[0-9a-f]{32}(?![0-9a-f])",
        RegexOptions.CultureInvariant)]
    private static partial Regex RandomPart();
}
