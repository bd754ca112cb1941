using System.Collections.Frozen;
using Akka.Actor;
using Akka.Serialization;

namespace Conduit.Protocol.Serialization;

/// <summary>
/// A binary serializer with stable, short string manifests: each type is registered under a name that
/// never changes when the type is renamed or moved, so journals and mixed-version clusters stay readable.
/// </summary>
public abstract class MemoryPackSerializerBase : SerializerWithStringManifest
{
    private readonly FrozenDictionary<Type, string> _manifests;
    private readonly FrozenDictionary<string, Type> _types;

    protected MemoryPackSerializerBase(ExtendedActorSystem system, IEnumerable<(string Manifest, Type Type)> registrations)
        : base(system)
    {
        var list = registrations.ToList();
        _manifests = list.ToFrozenDictionary(r => r.Type, r => r.Manifest);
        _types = list.ToFrozenDictionary(r => r.Manifest, r => r.Type);
    }

    public override string Manifest(object o) =>
        _manifests.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"{GetType().Name} has no manifest for {o.GetType()}; register it.");

    public override byte[] ToBinary(object obj) => MemoryPackSerializer.Serialize(obj.GetType(), obj);

    public override object FromBinary(byte[] bytes, string manifest) =>
        _types.TryGetValue(manifest, out var type)
            ? MemoryPackSerializer.Deserialize(type, bytes) ?? throw new System.Runtime.Serialization.SerializationException($"null for {manifest}")
            : throw new System.Runtime.Serialization.SerializationException($"{GetType().Name}: unknown manifest '{manifest}'");
}
