using System.Collections.Concurrent;
using System.Runtime.Serialization;

namespace Conduit.Testing;

/// <summary>
/// A type whose property setter records that it ran, for tests that a node never builds sender-named types out of
/// JSON. Build one with <see cref="Armed"/> (which writes the field, not the setter), so the only thing that can run
/// the setter is a deserializer; each test uses its own marker, so tests running in parallel do not see each other.
/// </summary>
public sealed class SerializationCanary
{
    private static readonly ConcurrentDictionary<string, int> SetterRuns = new();
    private string _marker = "";

    public static SerializationCanary Armed(string marker) => new() { _marker = marker };

    /// <summary>true once something (a deserializer) ran the setter with <paramref name="marker"/>.</summary>
    public static bool SetterRanWith(string marker) => SetterRuns.ContainsKey(marker);

    public string Marker
    {
        get => _marker;
        set
        {
            Record(value);
            _marker = value;
        }
    }

    internal static void Record(string marker) => SetterRuns.AddOrUpdate(marker, 1, (_, n) => n + 1);
}

/// <summary>
/// An exception whose serialization constructor records its message as a <see cref="SerializationCanary"/> marker:
/// Akka.Remote rebuilds the cause of a <c>Status.Failure</c> by calling that constructor on the type the sender names.
/// </summary>
public sealed class CanaryException : Exception
{
    public CanaryException(string marker) : base(marker) { }

    private CanaryException(SerializationInfo info, StreamingContext context) : base(info.GetString("Message"))
    {
        SerializationCanary.Record(Message);
    }
}

/// <summary>Carries a <see cref="SerializationCanary"/> in an <c>object</c> property, so its JSON names the canary with a nested <c>$type</c>.</summary>
public sealed class CanaryHolder
{
    public object? Payload { get; set; }
}

/// <summary>Akka keeps <c>Serialization.GetSerializerById</c> internal; tests that check what an id resolves to call it here.</summary>
public static class SerializerLookup
{
    public static Akka.Serialization.Serializer ById(Akka.Serialization.Serialization serialization, int id) =>
        (Akka.Serialization.Serializer)(typeof(Akka.Serialization.Serialization)
            .GetMethod("GetSerializerById", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)
            ?.Invoke(serialization, [id]) ?? throw new InvalidOperationException($"no serializer with id {id}"));
}
