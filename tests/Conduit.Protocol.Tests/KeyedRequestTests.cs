using System.Reflection;
using Akka.Actor;
using Conduit.Protocol.Security;
using Conduit.Protocol.Serialization;
using Conduit.Testing;
using MemoryPack;
using Xunit;

namespace Conduit.Protocol.Tests;

/// <summary>The client envelope: <see cref="KeyedRequest"/> over the <see cref="IClientRequest"/> union.</summary>
public sealed class KeyedRequestTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("keyed-request-test", ConduitSerialization.Config());

    public void Dispose() => _system.Dispose();

    public static TheoryData<string> UnionTypeNames() => [.. ClientRequests.UnionTypes.Select(t => t.Name)];

    [Theory(DisplayName = "a keyed request round-trips through the protocol serializer with a request of every client request type")]
    [MemberData(nameof(UnionTypeNames))]
    public void RoundTrip(string typeName)
    {
        var request = ClientRequests.Samples("billing").Single(s => s.Key.Name == typeName).Value;
        var keyed = new KeyedRequest(ApiKey.Generate("alice"), request);

        var serializer = _system.Serialization.FindSerializerFor(keyed);
        Assert.IsType<ProtocolSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, keyed);
        Assert.Equal("keyed", manifest);
        var bytes = serializer.ToBinary(keyed);
        var back = Assert.IsType<KeyedRequest>(_system.Serialization.Deserialize(bytes, serializer.Identifier, manifest));

        Assert.Equal(keyed.ApiKey, back.ApiKey);
        Assert.Equal(request.GetType(), back.Request.GetType());
        Assert.Equal(MemoryPackSerializer.Serialize(request.GetType(), request), MemoryPackSerializer.Serialize(back.Request.GetType(), back.Request));
    }

    [Fact(DisplayName = "a keyed request without a key (auth off) round-trips with an empty key")]
    public void EmptyKey()
    {
        var keyed = new KeyedRequest("", new GetClusterState());
        var back = MemoryPackSerializer.Deserialize<KeyedRequest>(MemoryPackSerializer.Serialize(keyed))!;
        Assert.Equal("", back.ApiKey);
        Assert.IsType<GetClusterState>(back.Request);
    }

    [Fact(DisplayName = "every concrete queue and management request type is a member of the client request union, under one tag")]
    public void UnionIsComplete()
    {
        var requestTypes = typeof(IClientRequest).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IClientRequest).IsAssignableFrom(t))
            .ToHashSet();
        Assert.Equal(requestTypes.OrderBy(t => t.Name).Select(t => t.Name), ClientRequests.UnionTypes.OrderBy(t => t.Name).Select(t => t.Name));
        var tags = typeof(IClientRequest).GetCustomAttributes<MemoryPackUnionAttribute>().Select(a => a.Tag).ToList();
        Assert.Equal(tags.Count, tags.Distinct().Count());
    }

    [Fact(DisplayName = "a queue request keeps the same union tag in IPartitionRequest and IClientRequest")]
    public void PartitionTagsAgree()
    {
        var partitionTags = typeof(IPartitionRequest).GetCustomAttributes<MemoryPackUnionAttribute>().ToDictionary(a => a.Type, a => a.Tag);
        var clientTags = typeof(IClientRequest).GetCustomAttributes<MemoryPackUnionAttribute>().ToDictionary(a => a.Type, a => a.Tag);
        Assert.NotEmpty(partitionTags);
        foreach (var (type, tag) in partitionTags) Assert.Equal(tag, clientTags[type]);
    }

    [Fact(DisplayName = "a keyed request's text shows the request and the key id, never the secret")]
    public void ToStringHidesSecret()
    {
        var key = ApiKey.Generate("alice");
        var secret = key[(key.IndexOf('.') + 1)..];
        var keyed = new KeyedRequest(key, new PurgeQueue("q"));

        var text = keyed.ToString();
        Assert.DoesNotContain(secret, text);
        Assert.Contains("alice.***", text);
        Assert.Contains("PurgeQueue", text);
        Assert.DoesNotContain(secret, $"{keyed}");
        Assert.DoesNotContain("\n", new KeyedRequest("evil\n.xxxxxxxxxxxxxxxxxxxxxxxxxxxxx", new ListQueues()).ToString());
        Assert.Contains("(malformed)", new KeyedRequest("no-dot-here-" + secret, new ListQueues()).ToString());
        Assert.DoesNotContain(secret, new KeyedRequest("no-dot-here-" + secret, new ListQueues()).ToString());
    }
}
