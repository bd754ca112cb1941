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
public sealed class GuardedMiscMessageSerializer : SerializerWithStringManifest
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
            : _inner.FromBinary(bytes, manifest);
}
