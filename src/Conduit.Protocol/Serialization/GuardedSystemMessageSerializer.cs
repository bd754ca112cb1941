using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Remote.Serialization;
using Akka.Serialization;

namespace Conduit.Protocol.Serialization;

/// <summary>
/// Takes the place of Akka.Remote's <see cref="SystemMessageSerializer"/> (name <c>akka-system-msg</c>, identifier 22)
/// and delegates to one, except that it refuses to deserialize the system messages that carry an exception
/// (<c>Create</c>, <c>Recreate</c>, <c>Resume</c>, <c>Failed</c>): Akka rebuilds that exception from a type name the
/// sender writes, as for <see cref="Status.Failure"/> (see <see cref="GuardedMiscMessageSerializer"/>). Those four only
/// cross the wire for remote deployment and remote supervision, which Conduit does not use; remote death watch
/// (<c>Watch</c>, <c>Unwatch</c>, <c>DeathWatchNotification</c>), which ClusterClient and the cluster need, passes.
/// </summary>
public sealed class GuardedSystemMessageSerializer : Serializer
{
    /// <summary>The identifier Akka.Remote's reference config gives SystemMessageSerializer.</summary>
    public const int SerializerId = 22;

    private static readonly HashSet<string> Refused =
        ["Akka.Dispatch.SysMsg.Create", "Akka.Dispatch.SysMsg.Recreate", "Akka.Dispatch.SysMsg.Resume", "Akka.Dispatch.SysMsg.Failed"];

    private readonly SystemMessageSerializer _inner;

    public GuardedSystemMessageSerializer(ExtendedActorSystem system) : base(system) => _inner = new SystemMessageSerializer(system);

    /// <summary>In case <c>akka.actor.serialization-settings.akka-system-msg</c> is ever present: Akka then passes it.</summary>
    public GuardedSystemMessageSerializer(ExtendedActorSystem system, Config config) : this(system) { }

    public override int Identifier => SerializerId;

    public override bool IncludeManifest => _inner.IncludeManifest;

    public override byte[] ToBinary(object obj) => _inner.ToBinary(obj);

    public override object FromBinary(byte[] bytes, Type type) =>
        type is null || Refused.Contains(type.FullName ?? "")
            ? throw new SerializationException(
                $"refused to deserialize system message {type?.Name ?? "(no type)"} (serializer id {SerializerId}): its exception would be " +
                "built from a type the sender names, and Conduit uses no remote deployment or supervision")
            : _inner.FromBinary(bytes, type);
}

/// <summary>
/// Takes the place of Akka.Remote's <see cref="SystemMessageSerializer"/> (identifier 22) on systems that face untrusted
/// peers and use no remote death watch (a node's client endpoint, <c>ConduitClient</c>, the CLI): every inbound system
/// message is refused. Akka's untrusted mode drops only <c>Terminate</c>; <c>Suspend</c> froze an actor for good, and
/// <c>Watch</c> with made-up watchers grows an actor's watcher set without bound.
/// </summary>
public sealed class UntrustedPeerSystemMessageSerializer : Serializer
{
    private readonly SystemMessageSerializer _inner;

    public UntrustedPeerSystemMessageSerializer(ExtendedActorSystem system) : base(system) => _inner = new SystemMessageSerializer(system);

    public UntrustedPeerSystemMessageSerializer(ExtendedActorSystem system, Config config) : this(system) { }

    public override int Identifier => GuardedSystemMessageSerializer.SerializerId;

    public override bool IncludeManifest => _inner.IncludeManifest;

    public override byte[] ToBinary(object obj) => _inner.ToBinary(obj);

    public override object FromBinary(byte[] bytes, Type type) =>
        throw new SerializationException(
            $"refused to deserialize system message {type?.Name ?? "(no type)"} (serializer id {GuardedSystemMessageSerializer.SerializerId}): " +
            "this system takes no system messages from the network");
}
