using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Conduit.Client.Tests;

/// <summary>What the client does without a cluster: contact points, the error mapping, an unreachable cluster.</summary>
public sealed class ClientUnitTests
{
    [Theory(DisplayName = "contact points become the addresses of nodes' client endpoints")]
    [InlineData("127.0.0.1:4053", "akka.tcp://conduit@127.0.0.1:4053")]
    [InlineData(" node-1.internal:9000 ", "akka.tcp://conduit@node-1.internal:9000")]
    [InlineData("akka.tcp://conduit@10.0.0.5:4053", "akka.tcp://conduit@10.0.0.5:4053")]
    [InlineData("akka.tcp://other@10.0.0.5:4053/user/frontend", "akka.tcp://other@10.0.0.5:4053")]
    public void ContactPoint(string server, string address) => Assert.Equal(address, ContactPoints.ToNodeAddress(server).ToString());

    [Theory(DisplayName = "a malformed contact point is refused with a message that shows the right form")]
    [InlineData("localhost")]
    [InlineData("localhost:")]
    [InlineData("localhost:http")]
    [InlineData("localhost:70000")]
    public void BadContactPoint(string server)
    {
        var e = Assert.Throws<ArgumentException>(() => new ConduitClient(new ConduitClientOptions { Servers = [server] }));
        Assert.Contains("host:port", e.Message);
    }

    [Theory(DisplayName = "a malformed API key is refused when the client starts, and the message does not show it")]
    [InlineData("")]
    [InlineData("alice")]
    [InlineData("alice.too-short-secret")]
    [InlineData("Alice.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void MalformedApiKey(string key)
    {
        var e = Assert.Throws<ArgumentException>(() => new ConduitClient(new ConduitClientOptions { ApiKey = key }));
        Assert.Equal(nameof(ConduitClientOptions.ApiKey), e.ParamName);
        if (key.Length > 0) Assert.DoesNotContain(key, e.Message);
        Assert.Contains("API key", e.Message);
    }

    [Fact(DisplayName = "a well-formed API key passes the options check")]
    public void WellFormedApiKey()
    {
        var options = new ConduitClientOptions { ApiKey = Conduit.Protocol.Security.ApiKey.Generate("alice") };
        options.Validate();
        Assert.StartsWith("alice.", options.ApiKey);
    }

    [Theory(DisplayName = "a namespace that breaks the name rule is refused when the client is made, before anything is sent")]
    [InlineData("Billing")]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData(null)]
    public void BadNamespace(string? ns)
    {
        var e = Assert.Throws<ArgumentException>(() => new ConduitClient(new ConduitClientOptions { Namespace = ns! }));
        Assert.Equal(nameof(ConduitClientOptions.Namespace), e.ParamName);
        Assert.Contains("invalid namespace", e.Message);
    }

    [Fact(DisplayName = "a client names the default namespace unless told otherwise")]
    public void DefaultNamespace() => Assert.Equal("default", new ConduitClientOptions().Namespace);

    [Fact(DisplayName = "the client's ActorSystem refuses serializer id 1 (Akka's JSON) instead of deserializing it")]
    public async Task ClientRefusesJson()
    {
        var config = ClientConfig.Build(new ConduitClientOptions());
        var system = Akka.Actor.ActorSystem.Create(ClientConfig.SystemName, config);
        try
        {
            Assert.IsType<Conduit.Protocol.Serialization.RefusingSerializer>(Conduit.Testing.SerializerLookup.ById(system.Serialization, 1));
            Assert.Throws<System.Runtime.Serialization.SerializationException>(() =>
                system.Serialization.Deserialize("{}"u8.ToArray(), 1, "System.IO.FileInfo, System.Private.CoreLib"));
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact(DisplayName = "the client's ActorSystem ticks every 100 ms, not Akka's 10 ms, unless its ExtraHocon says otherwise")]
    public void ClientSchedulerTick()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(100), ClientConfig.Build(new ConduitClientOptions()).GetTimeSpan("akka.scheduler.tick-duration"));
        Assert.Equal(TimeSpan.FromMilliseconds(10), ClientConfig.Build(new ConduitClientOptions { ExtraHocon = "akka.scheduler.tick-duration = 10ms" })
            .GetTimeSpan("akka.scheduler.tick-duration"));
    }

    [Fact(DisplayName = "every error code maps to its own exception type carrying the code")]
    public void ErrorMapping()
    {
        var expected = new Dictionary<ErrorCode, Type>
        {
            [ErrorCode.InvalidQueueName] = typeof(InvalidQueueNameException),
            [ErrorCode.PayloadTooLarge] = typeof(PayloadTooLargeException),
            [ErrorCode.InvalidArgument] = typeof(InvalidArgumentException),
            [ErrorCode.UnknownLease] = typeof(UnknownLeaseException),
            [ErrorCode.LeaseExpired] = typeof(LeaseExpiredException),
            [ErrorCode.TaskNotFound] = typeof(TaskNotFoundException),
            [ErrorCode.Overloaded] = typeof(OverloadedException),
            [ErrorCode.Unavailable] = typeof(UnavailableException),
            [ErrorCode.Unauthorized] = typeof(UnauthorizedException),
            [ErrorCode.QuotaExceeded] = typeof(QuotaExceededException),
            [ErrorCode.InvalidNamespace] = typeof(InvalidNamespaceException),
            [ErrorCode.ScheduleNotFound] = typeof(ScheduleNotFoundException),
            [ErrorCode.HistoryOff] = typeof(HistoryOffException),
        };
        Assert.Equal(Enum.GetValues<ErrorCode>().Order(), expected.Keys.Order());
        foreach (var (code, type) in expected)
        {
            var e = ConduitException.From(new Rejected(code, "why"));
            Assert.IsType(type, e);
            Assert.Equal((code, "why"), (e.Code, e.Message));
        }
    }

    [Fact(DisplayName = "with no node at the contact point a request fails with ConduitUnreachableException naming the address")]
    public async Task Unreachable()
    {
        var port = FreePort();
        await using var client = new ConduitClient(new ConduitClientOptions { Servers = [$"127.0.0.1:{port}"], RequestTimeout = TimeSpan.FromSeconds(1) });
        var watch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<ConduitUnreachableException>(() => client.EnqueueAsync("q", "x"));
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        Assert.False(client.IsConnected);
    }

    [Fact(DisplayName = "a disposed client refuses requests")]
    public async Task Disposed()
    {
        var client = ConduitClient.Connect($"127.0.0.1:{FreePort()}");
        await client.DisposeAsync();
        await client.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.GetQueueStatsAsync("q"));
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
