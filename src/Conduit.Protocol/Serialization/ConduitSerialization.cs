using Akka.Configuration;

namespace Conduit.Protocol.Serialization;

/// <summary>
/// Binds <see cref="IConduitMessage"/> to <see cref="ProtocolSerializer"/> with plain HOCON, so any ActorSystem
/// that talks to Conduit (a node, the client library, the CLI) can use the wire format without Akka.Hosting
/// or the server assembly, and replaces Akka's JSON serializer with <see cref="RefusingSerializer"/>. Akka.Hosting
/// users on the server get the same from <c>WithConduitSerialization()</c>, which is built on this.
/// </summary>
public static class ConduitSerialization
{
    /// <summary>Name of the protocol serializer in <c>akka.actor.serializers</c>.</summary>
    public const string SerializerName = "conduit";

    /// <summary>The binding alone: <c>IConduitMessage</c> goes through <see cref="ProtocolSerializer"/>.</summary>
    public static readonly string BindingHocon = $$"""
        akka.actor {
          serializers {
            {{SerializerName}} = "{{TypeName(typeof(ProtocolSerializer))}}"
          }
          serialization-bindings {
            "{{TypeName(typeof(IConduitMessage))}}" = {{SerializerName}}
          }
          serialization-identifiers {
            "{{TypeName(typeof(ProtocolSerializer))}}" = {{ProtocolSerializer.SerializerId}}
          }
        }
        """;

    /// <summary>Name of Akka's JSON serializer in its reference config (<c>akka.actor.serializers.json</c>).</summary>
    public const string JsonSerializerName = "json";

    /// <summary>Name of Akka.Remote's MiscMessageSerializer in its reference config (<c>akka.actor.serializers.akka-misc</c>).</summary>
    public const string MiscSerializerName = "akka-misc";

    /// <summary>Name of Akka.Remote's SystemMessageSerializer in its reference config (<c>akka.actor.serializers.akka-system-msg</c>).</summary>
    public const string SystemMessageSerializerName = "akka-system-msg";

    /// <summary>
    /// Akka's reference config registers its Newtonsoft JSON serializer as <c>json</c> with identifier 1 and binds
    /// <c>System.Object</c> to it. This puts <see cref="RefusingSerializer"/> under the same name and identifier, so
    /// the Newtonsoft serializer is never created: a message arriving with serializer id 1 is refused instead of
    /// deserialized, and anything that would fall back to JSON fails instead of sending it. Likewise
    /// <see cref="GuardedMiscMessageSerializer"/> replaces <c>akka-misc</c> (id 16) and refuses inbound
    /// <c>Status.Failure</c>, whose exception Akka would build from a sender-named type, and
    /// <see cref="GuardedSystemMessageSerializer"/> replaces <c>akka-system-msg</c> (id 22) and refuses the system
    /// messages that carry an exception for the same reason. Part of
    /// <see cref="Config"/> whatever <c>strict</c> says; it must take precedence over Akka's reference config
    /// (ahead of it in the fallback chain, or <c>HoconAddMode.Prepend</c> with Akka.Hosting).
    /// </summary>
    public static readonly string RefuseJsonHocon = $$"""
        akka.actor {
          serializers {
            {{JsonSerializerName}} = "{{TypeName(typeof(RefusingSerializer))}}"
            {{MiscSerializerName}} = "{{TypeName(typeof(GuardedMiscMessageSerializer))}}"
            {{SystemMessageSerializerName}} = "{{TypeName(typeof(GuardedSystemMessageSerializer))}}"
          }
          serialization-identifiers {
            "{{TypeName(typeof(RefusingSerializer))}}" = {{RefusingSerializer.SerializerId}}
            "{{TypeName(typeof(GuardedMiscMessageSerializer))}}" = {{GuardedMiscMessageSerializer.SerializerId}}
            "{{TypeName(typeof(GuardedSystemMessageSerializer))}}" = {{GuardedSystemMessageSerializer.SerializerId}}
          }
        }
        """;

    /// <summary>
    /// For ActorSystems that face untrusted peers and are not cluster members (a node's client endpoint,
    /// <c>ConduitClient</c>, the CLI): over <see cref="RefuseJsonHocon"/>, <c>akka-misc</c> also refuses inbound
    /// <c>PoisonPill</c> and <c>Kill</c> (<see cref="UntrustedPeerMiscMessageSerializer"/>) and <c>akka-system-msg</c>
    /// refuses every inbound system message (<see cref="UntrustedPeerSystemMessageSerializer"/>), and Akka's untrusted
    /// mode is on (no selections except <c>trusted-selection-paths</c>, which a system adds itself).
    /// </summary>
    public static readonly string UntrustedPeersHocon = $$"""
        akka.remote.untrusted-mode = on
        akka.actor {
          serializers {
            {{MiscSerializerName}} = "{{TypeName(typeof(UntrustedPeerMiscMessageSerializer))}}"
            {{SystemMessageSerializerName}} = "{{TypeName(typeof(UntrustedPeerSystemMessageSerializer))}}"
          }
          serialization-identifiers {
            "{{TypeName(typeof(UntrustedPeerMiscMessageSerializer))}}" = {{GuardedMiscMessageSerializer.SerializerId}}
            "{{TypeName(typeof(UntrustedPeerSystemMessageSerializer))}}" = {{GuardedSystemMessageSerializer.SerializerId}}
          }
        }
        """;

    /// <summary><see cref="Config(bool)"/> with <see cref="UntrustedPeersHocon"/> over it.</summary>
    public static Config UntrustedPeersConfig(bool strict = true) => ConfigurationFactory.ParseString(UntrustedPeersHocon).WithFallback(Config(strict));

    /// <summary>
    /// Strict serialization (the same switch as Akka.Hosting's <c>WithStrictSerialization()</c>): a message type
    /// without an explicit binding fails to serialize instead of silently falling back to JSON.
    /// </summary>
    public const string StrictHocon = "akka.actor.serialization-settings.allow-unregistered-types = false";

    /// <summary>The binding, the JSON refusal (always), and strict serialization when <paramref name="strict"/> (the default).</summary>
    public static Config Config(bool strict = true)
    {
        var binding = ConfigurationFactory.ParseString(RefuseJsonHocon).WithFallback(ConfigurationFactory.ParseString(BindingHocon));
        return strict ? ConfigurationFactory.ParseString(StrictHocon).WithFallback(binding) : binding;
    }

    private static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";
}
