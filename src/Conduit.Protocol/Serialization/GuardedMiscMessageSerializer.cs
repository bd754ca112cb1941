using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Remote.Serialization;
using Akka.Serialization;

namespace Conduit.Protocol.Serialization;

/// <summary>
/// Takes the place of Akka.Remote's <see cref="MiscMessageSerializer"/> (name <c>akka-misc</c>, identifier 16) and
/// delegates everything to one, except that it refuses to deserialize <see cref="Status.Failure"/> (manifest
/// <c>STF</c>). Akka rebuilds the exception in a Status.Failure from the type name the sender wrote, by
/// <c>Type.GetType(name)</c> and that type's <c>(SerializationInfo, StreamingContext)</c> constructor, so a
/// stranger could make a node instantiate types of its choosing. Conduit answers failures with
/// <see cref="Rejected"/> and never sends Status.Failure between systems; the bytes of a refused one are not read.
/// </summary>
/// <remarks>
/// Outbound Status.Failure is still serialized (by the inner serializer): the receiving Conduit system refuses it.
/// Akka's <c>SystemMessageSerializer</c> (id 22) rebuilds exceptions the same way for the cause carried by the
/// Create, Recreate, Resume and Failed system messages: <see cref="GuardedSystemMessageSerializer"/> guards that one.
/// </remarks>
public class GuardedMiscMessageSerializer : SerializerWithStringManifest
{
    /// <summary>The identifier Akka.Remote's reference config gives MiscMessageSerializer.</summary>
    public const int SerializerId = 16;

    /// <summary>MiscMessageSerializer's manifest for <see cref="Status.Failure"/>.</summary>
    public const string StatusFailureManifest = "STF";

    private readonly MiscMessageSerializer _inner;

    public GuardedMiscMessageSerializer(ExtendedActorSystem system) : base(system) => _inner = new MiscMessageSerializer(system);

    /// <summary>In case <c>akka.actor.serialization-settings.akka-misc</c> is ever present: Akka then passes it.</summary>
    public GuardedMiscMessageSerializer(ExtendedActorSystem system, Config config) : this(system) { }

    public override int Identifier => SerializerId;

    public override byte[] ToBinary(object obj) => _inner.ToBinary(obj);

    public override string Manifest(object o) => _inner.Manifest(o);

    public override object FromBinary(byte[] bytes, string manifest) =>
        manifest == StatusFailureManifest
            ? throw new SerializationException(
                $"refused to deserialize a Status.Failure (serializer id {SerializerId}, manifest {StatusFailureManifest}): " +
                "its exception would be built from a type the sender names; Conduit replies with Rejected instead")
            : Refuses(manifest) is { } why
                ? throw new SerializationException($"refused to deserialize manifest {manifest} (serializer id {SerializerId}): {why}")
                : _inner.FromBinary(bytes, manifest);

    /// <summary>Why a message with <paramref name="manifest"/> is refused as well, or null to deserialize it.</summary>
    protected virtual string? Refuses(string manifest) => null;
}

/// <summary>
/// <see cref="GuardedMiscMessageSerializer"/> for systems that face untrusted peers and are never stopped or killed from
/// the network (a node's client endpoint, <c>ConduitClient</c>, the CLI): it also refuses an inbound <c>PoisonPill</c>
/// (manifest <c>PP</c>) and <c>Kill</c> (<c>K</c>). Akka's untrusted mode drops a PoisonPill but lets Kill through to
/// any actor whose path the sender writes, including the <c>/user</c> guardian and remoting's own actors, and a killed
/// guardian or endpoint manager takes the whole ActorSystem down.
/// </summary>
public sealed class UntrustedPeerMiscMessageSerializer : GuardedMiscMessageSerializer
{
    public const string PoisonPillManifest = "PP";
    public const string KillManifest = "K";

    public UntrustedPeerMiscMessageSerializer(ExtendedActorSystem system) : base(system) { }

    public UntrustedPeerMiscMessageSerializer(ExtendedActorSystem system, Config config) : base(system) { }

    protected override string? Refuses(string manifest) => manifest is PoisonPillManifest or KillManifest
        ? "this system is never stopped or killed from the network"
        : null;
}
