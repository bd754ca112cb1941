using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;

namespace Conduit.Protocol.Serialization;

/// <summary>
/// Takes the place of Akka's Newtonsoft JSON serializer (name <c>json</c>, identifier 1) on every Conduit ActorSystem
/// and refuses everything. Akka's JSON serializer creates whatever .NET type a <c>$type</c> in the payload names and
/// runs its setters, so a message sent with serializer id 1 by anyone who can reach the remoting port would
/// instantiate types of the sender's choosing. Conduit's own messages never use it (they go through
/// <see cref="ProtocolSerializer"/>), so refusing costs nothing legitimate. The bytes are never read; the manifest
/// (sender-supplied text) only appears escaped and cut short in the exception.
/// </summary>
/// <remarks>
/// A <see cref="SerializerWithStringManifest"/> on purpose: for plain serializers Akka resolves the manifest to a
/// <see cref="Type"/> before calling <c>FromBinary</c>, which would already load a type the sender named.
/// </remarks>
public sealed class RefusingSerializer : SerializerWithStringManifest
{
    /// <summary>The identifier Akka's reference config gives its JSON serializer; inbound messages carrying it land here.</summary>
    public const int SerializerId = 1;

    /// <summary>Longest manifest text quoted in a refusal.</summary>
    public const int MaxQuotedManifest = 80;

    public RefusingSerializer(ExtendedActorSystem system) : base(system) { }

    /// <summary>Akka passes <c>akka.actor.serialization-settings.json</c> when it is present (it is, in Akka's reference config).</summary>
    public RefusingSerializer(ExtendedActorSystem system, Config config) : base(system) { }

    public override int Identifier => SerializerId;

    public override byte[] ToBinary(object obj) => throw Refusal("serialize", obj.GetType().FullName);

    public override string Manifest(object o) => throw Refusal("serialize", o.GetType().FullName);

    public override object FromBinary(byte[] bytes, string manifest) => throw Refusal("deserialize", manifest);

    private static SerializationException Refusal(string what, string? name) =>
        new($"refused to {what} {(string.IsNullOrEmpty(name) ? "a message without manifest" : $"'{SafeText.Escape(name, MaxQuotedManifest)}'")} " +
            $"with serializer id {SerializerId}: " +
            "Akka's JSON serializer is disabled on Conduit systems (it creates any type the payload names); " +
            "bind the type to a serializer explicitly");
}
