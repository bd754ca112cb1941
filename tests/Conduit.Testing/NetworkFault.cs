using System.Collections;
using System.Diagnostics;
using System.Reflection;
using Akka.Actor;
using Akka.Remote;

namespace Conduit.Testing;

/// <summary>
/// Faults in the network between real processes, made by the kernel: <c>ss -K</c> destroys TCP connections as a
/// firewall or NAT that forgets them would (both ends see the connection reset; nothing is said at the Akka level).
/// Needs root, as the tests run, and a kernel with socket destroy (<c>CONFIG_INET_DIAG_DESTROY</c>). And a connection
/// closed by one side's own process, with a FIN (<see cref="CloseConnectionsOf"/>).
/// </summary>
public static class NetworkFault
{
    /// <summary>
    /// Resets every loopback connection whose far end is port <paramref name="port"/> (the dialing side of each
    /// connection to a listener there) and returns how many there were. Throws when <c>ss</c> cannot destroy sockets.
    /// </summary>
    public static Task<int> ResetConnectionsTo(int port) => Reset("dst", "dport", port);

    /// <summary>Resets every loopback connection a listener on port <paramref name="port"/> accepted (the listening side of each).</summary>
    public static Task<int> ResetConnectionsAt(int port) => Reset("src", "sport", port);

    private static async Task<int> Reset(string hostKey, string portKey, int port)
    {
        var psi = new ProcessStartInfo("ss")
        {
            ArgumentList = { "-K", "-t", "-n", "-H", "state", "established", hostKey, "127.0.0.1", portKey, "=", $":{port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("ss did not start");
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || error.Contains("Operation not permitted", StringComparison.Ordinal))
            throw new InvalidOperationException($"ss -K failed (exit {process.ExitCode}): {error.Trim()}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    private const BindingFlags Fields = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    /// <summary>
    /// Closes every connection <paramref name="system"/>'s remoting holds (a FIN, as when its own side gives a
    /// connection up) and returns how many. Akka has no API for this: it reaches into Akka.Remote 1.5.73's DotNetty
    /// transport (<c>Remoting._transportMapping</c> → the protocol transport's wrapped transport → its
    /// <c>ConnectionGroup</c>), and throws when those are not there, so an Akka upgrade that moves them fails loudly.
    /// </summary>
    public static int CloseConnectionsOf(ActorSystem system)
    {
        var remoting = ((RemoteActorRefProvider)((ExtendedActorSystem)system).Provider).Transport;
        var mapping = (IDictionary)Field(remoting, "_transportMapping");
        var closed = 0;
        foreach (DictionaryEntry entry in mapping)
        {
            foreach (var pair in (IEnumerable)entry.Value!)
            {
                var protocol = pair.GetType().GetProperty("ProtocolTransport", Fields)?.GetValue(pair)
                    ?? throw new MissingMemberException(pair.GetType().FullName, "ProtocolTransport");
                var transport = Field(protocol, "WrappedTransport");
                // Conduit's guarded transports (Conduit.Protocol.Remoting.GuardedTransport) wrap DotNetty's.
                if (transport.GetType().Namespace == "Conduit.Protocol.Remoting") transport = Field(transport, "Inner");
                var server = Field(transport, "ServerChannel", allowNull: true);
                foreach (var channel in ((IEnumerable)Field(transport, "ConnectionGroup")).Cast<DotNetty.Transport.Channels.IChannel>().ToList())
                {
                    if (ReferenceEquals(channel, server)) continue;
                    _ = channel.CloseAsync();
                    closed++;
                }
            }
        }
        return closed;
    }

    private static object Field(object target, string name, bool allowNull = false)
    {
        for (var type = target.GetType(); type is not null; type = type.BaseType)
        {
            var member = (MemberInfo?)type.GetField(name, Fields | BindingFlags.DeclaredOnly) ?? type.GetProperty(name, Fields | BindingFlags.DeclaredOnly);
            if (member is null) continue;
            var value = member is FieldInfo f ? f.GetValue(target) : ((PropertyInfo)member).GetValue(target);
            return value ?? (allowNull ? null! : throw new InvalidOperationException($"{type.FullName}.{name} is null"));
        }
        throw new MissingMemberException(target.GetType().FullName, name);
    }
}
