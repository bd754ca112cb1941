using Akka.Configuration;

namespace Conduit.Protocol.Serialization;

/// <summary>
/// Binds <see cref="IConduitMessage"/> to <see cref="ProtocolSerializer"/> with plain HOCON, so any ActorSystem
/// that talks to Conduit (a node, the client library, the CLI) can use the wire format without Akka.Hosting
/// or the server assembly. Akka.Hosting users on the server get the same binding from
/// <c>WithConduitSerialization()</c>, which is built on this.
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

    /// <summary>
    /// Strict serialization (the same switch as Akka.Hosting's <c>WithStrictSerialization()</c>): a message type
    /// without an explicit binding fails to serialize instead of silently falling back to JSON.
    /// </summary>
    public const string StrictHocon = "akka.actor.serialization-settings.allow-unregistered-types = false";

    /// <summary>The binding, and strict serialization when <paramref name="strict"/> (the default).</summary>
    public static Config Config(bool strict = true)
    {
        var binding = ConfigurationFactory.ParseString(BindingHocon);
        return strict ? ConfigurationFactory.ParseString(StrictHocon).WithFallback(binding) : binding;
    }

    private static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";
}
