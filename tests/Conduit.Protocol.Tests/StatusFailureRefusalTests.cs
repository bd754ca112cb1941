using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Remote.Serialization;
using Conduit.Protocol.Serialization;
using Conduit.Testing;
using Xunit;

namespace Conduit.Protocol.Tests;

/// <summary>
/// Akka.Remote's MiscMessageSerializer (id 16) rebuilds a Status.Failure's exception from the type name the sender
/// wrote; Conduit systems put <see cref="GuardedMiscMessageSerializer"/> in its place.
/// </summary>
public sealed class StatusFailureRefusalTests : IAsyncLifetime
{
    private ActorSystem _stock = null!;
    private ActorSystem _conduit = null!;

    public Task InitializeAsync()
    {
        _stock = ActorSystem.Create("stock", "akka.actor.provider = remote\nakka.remote.dot-netty.tcp { hostname = \"127.0.0.1\", port = 0 }");
        _conduit = ActorSystem.Create("conduit-serialization", ConfigurationFactory.ParseString(
            "akka.actor.provider = remote\nakka.remote.dot-netty.tcp { hostname = \"127.0.0.1\", port = 0 }").WithFallback(ConduitSerialization.Config()));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _stock.Terminate();
        await _conduit.Terminate();
    }

    private (byte[] Bytes, string Manifest) StockStatusFailure(string marker)
    {
        var failure = new Status.Failure(new CanaryException(marker));
        var serializer = _stock.Serialization.FindSerializerFor(failure);
        Assert.IsType<MiscMessageSerializer>(serializer);
        return (serializer.ToBinary(failure), Akka.Serialization.Serialization.ManifestFor(serializer, failure));
    }

    [Fact(DisplayName = "control: Akka.Remote's stock serializer builds a Status.Failure's exception from the sender-named type")]
    public void StockBuildsNamedType()
    {
        var marker = Guid.NewGuid().ToString("N");
        var (bytes, manifest) = StockStatusFailure(marker);

        var back = _stock.Serialization.Deserialize(bytes, GuardedMiscMessageSerializer.SerializerId, manifest);

        Assert.IsType<CanaryException>(Assert.IsType<Status.Failure>(back).Cause);
        Assert.True(SerializationCanary.SetterRanWith(marker));
    }

    [Fact(DisplayName = "a Conduit system refuses an inbound Status.Failure without building the type it names")]
    public void ConduitRefusesStatusFailure()
    {
        var marker = Guid.NewGuid().ToString("N");
        var (bytes, manifest) = StockStatusFailure(marker);
        Assert.Equal(GuardedMiscMessageSerializer.StatusFailureManifest, manifest);
        Assert.IsType<GuardedMiscMessageSerializer>(SerializerLookup.ById(_conduit.Serialization, GuardedMiscMessageSerializer.SerializerId));

        Assert.Throws<SerializationException>(() => _conduit.Serialization.Deserialize(bytes, GuardedMiscMessageSerializer.SerializerId, manifest));

        Assert.False(SerializationCanary.SetterRanWith(marker));
    }

    [Fact(DisplayName = "everything else akka-misc carries still round-trips through the guarded serializer")]
    public void OtherMiscMessagesRoundTrip()
    {
        object[] messages = [new Identify("x"), new ActorIdentity("x", null), PoisonPill.Instance, new Status.Success("ok"), new RemoteScope(new Address("akka.tcp", "s", "h", 1))];
        foreach (var message in messages)
        {
            var serializer = _conduit.Serialization.FindSerializerFor(message);
            Assert.IsType<GuardedMiscMessageSerializer>(serializer);
            var back = _conduit.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier,
                Akka.Serialization.Serialization.ManifestFor(serializer, message));
            Assert.Equal(message.GetType(), back.GetType());
        }
    }

    [Fact(DisplayName = "a Conduit system refuses an inbound Failed system message without building the exception type it names, and still reads death watch")]
    public void ConduitRefusesFailedSystemMessage()
    {
        var marker = Guid.NewGuid().ToString("N");
        var child = (IInternalActorRef)_stock.DeadLetters;
        var failed = new Akka.Dispatch.SysMsg.Failed(child, new CanaryException(marker), 1);
        var stock = _stock.Serialization.FindSerializerFor(failed);
        Assert.IsType<SystemMessageSerializer>(stock);
        var bytes = stock.ToBinary(failed);
        var manifest = Akka.Serialization.Serialization.ManifestFor(stock, failed);
        Assert.IsType<GuardedSystemMessageSerializer>(SerializerLookup.ById(_conduit.Serialization, GuardedSystemMessageSerializer.SerializerId));

        Assert.Throws<SerializationException>(() => _conduit.Serialization.Deserialize(bytes, GuardedSystemMessageSerializer.SerializerId, manifest));
        Assert.False(SerializationCanary.SetterRanWith(marker));

        object[] passing = [new Akka.Dispatch.SysMsg.Watch(child, child), new Akka.Dispatch.SysMsg.Unwatch(child, child),
            new Akka.Dispatch.SysMsg.DeathWatchNotification(child, existenceConfirmed: true, addressTerminated: false)];
        foreach (var message in passing)
        {
            var serializer = _conduit.Serialization.FindSerializerFor(message);
            Assert.IsType<GuardedSystemMessageSerializer>(serializer);
            var back = _conduit.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier,
                Akka.Serialization.Serialization.ManifestFor(serializer, message));
            Assert.Equal(message.GetType(), back.GetType());
        }
    }
}
