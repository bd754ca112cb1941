using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Conduit.Protocol.Serialization;
using Conduit.Testing;
using Xunit;

namespace Conduit.Protocol.Tests;

/// <summary>
/// Akka's JSON serializer (id 1) creates whatever type a <c>$type</c> names and runs its setters; every Conduit
/// ActorSystem replaces it with <see cref="RefusingSerializer"/>. The remoting test is in Conduit.Server.Tests.
/// </summary>
public sealed class JsonRefusalTests : IAsyncLifetime
{
    private ActorSystem _stock = null!;
    private ActorSystem _conduit = null!;

    public Task InitializeAsync()
    {
        _stock = ActorSystem.Create("stock", Config.Empty);
        _conduit = ActorSystem.Create("conduit-serialization", ConduitSerialization.Config());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _stock.Terminate();
        await _conduit.Terminate();
    }

    /// <summary>What an attacker with Akka's stock config puts on the wire: id-1 bytes and the manifest naming the type.</summary>
    private (byte[] Bytes, int Id, string Manifest) StockJson(object message)
    {
        var serializer = _stock.Serialization.FindSerializerFor(message);
        Assert.Equal(1, serializer.Identifier);
        return (serializer.ToBinary(message), serializer.Identifier, Akka.Serialization.Serialization.ManifestFor(serializer, message));
    }

    [Fact(DisplayName = "control: Akka's stock JSON serializer runs the setters of a type named in the payload")]
    public void StockJsonRunsSetters()
    {
        var marker = Guid.NewGuid().ToString("N");
        var (bytes, id, manifest) = StockJson(new CanaryHolder { Payload = SerializationCanary.Armed(marker) });
        // Akka's JSON serializer sends no manifest: the type is named inside the JSON.
        Assert.Equal("", manifest);
        Assert.Contains("$type", System.Text.Encoding.UTF8.GetString(bytes));
        Assert.False(SerializationCanary.SetterRanWith(marker));

        var back = _stock.Serialization.Deserialize(bytes, id, manifest);

        Assert.IsType<SerializationCanary>(Assert.IsType<CanaryHolder>(back).Payload);
        Assert.True(SerializationCanary.SetterRanWith(marker));
    }

    [Fact(DisplayName = "an ActorSystem on ConduitSerialization.Config() has the refusing serializer under id 1 and the name json")]
    public void IdOneIsTheRefusingSerializer()
    {
        Assert.IsType<RefusingSerializer>(SerializerLookup.ById(_conduit.Serialization, 1));
        Assert.IsType<RefusingSerializer>(SerializerLookup.ById(_conduit.Serialization, RefusingSerializer.SerializerId));
    }

    [Theory(DisplayName = "id-1 bytes whose JSON names a type with $type are refused, and no setter runs")]
    [InlineData(false)]
    [InlineData(true)]
    public void RefusesJsonNamingAType(bool nested)
    {
        var marker = Guid.NewGuid().ToString("N");
        var canary = SerializationCanary.Armed(marker);
        var (bytes, id, manifest) = StockJson(nested ? new CanaryHolder { Payload = canary } : canary);

        var refused = Assert.Throws<SerializationException>(() => _conduit.Serialization.Deserialize(bytes, id, manifest));

        Assert.Contains("serializer id 1", refused.Message);
        Assert.False(SerializationCanary.SetterRanWith(marker));
    }

    [Fact(DisplayName = "the refusal quotes a sender's manifest escaped and cut short")]
    public void RefusalEscapesManifest()
    {
        var manifest = "Evil\nforged log line " + new string('x', 500);

        var refused = Assert.Throws<SerializationException>(() => _conduit.Serialization.Deserialize([1, 2, 3], 1, manifest));

        Assert.DoesNotContain("\n", refused.Message);
        Assert.Contains(@"Evil\x0aforged", refused.Message);
        Assert.DoesNotContain(new string('x', RefusingSerializer.MaxQuotedManifest), refused.Message);
    }

    [Fact(DisplayName = "without strict serialization, an unbound type still does not fall back to JSON: serializing it fails")]
    public async Task UnboundTypeIsNotSentAsJson()
    {
        var lenient = ActorSystem.Create("lenient", ConduitSerialization.Config(strict: false));
        try
        {
            var message = SerializationCanary.Armed("out");
            Assert.IsType<RefusingSerializer>(lenient.Serialization.FindSerializerFor(message));
            Assert.Throws<SerializationException>(() => lenient.Serialization.Serialize(message));
        }
        finally
        {
            await lenient.Terminate();
        }
    }
}
