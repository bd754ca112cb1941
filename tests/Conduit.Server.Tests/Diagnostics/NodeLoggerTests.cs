using Akka.Event;
using Akka.Pattern;
using Conduit.Server.Diagnostics;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Conduit.Server.Tests.Diagnostics;

public sealed class NodeLoggerTests
{
    [Fact(DisplayName = "storage errors, remoting's channel errors and the client endpoint's remoting warnings are told apart from everything else")]
    public void Classifies()
    {
        Assert.Equal(NodeLogger.Noise.Storage,
            NodeLogger.Classify(new Error(new InvalidOperationException("write failed", new SqliteException("locked", 5)), "akka://x/user/w", typeof(object), "Write 5 failed")));
        Assert.Equal(NodeLogger.Noise.Storage,
            NodeLogger.Classify(new Error(new OpenCircuitException("open"), "akka://x/system/journal", typeof(object), "replay failed")));
        Assert.Equal(NodeLogger.Noise.Connection,
            NodeLogger.Classify(new Error(new Exception("bad frame"), "TcpServerHandler (akka://conduit)", typeof(object), "Error caught channel")));
        // The client endpoint's remoting (an answer to an address without a connection), not the cluster's.
        Assert.Equal(NodeLogger.Noise.Connection,
            NodeLogger.Classify(new Warning("remoting (akka://conduit)", typeof(object), "Tried to associate with unreachable remote address")));
        Assert.Equal(NodeLogger.Noise.None,
            NodeLogger.Classify(new Warning("remoting (akka://conduit-cluster)", typeof(object), "Tried to associate with unreachable remote address")));
        Assert.Equal(NodeLogger.Noise.None,
            NodeLogger.Classify(new Error(null, "remoting (akka://conduit)", typeof(object), "Remoting system has been terminated abruptly")));
        Assert.Equal(NodeLogger.Noise.None,
            NodeLogger.Classify(new Error(new InvalidOperationException("bug"), "akka://x/user/p", typeof(object), "a bug")));
        Assert.Equal(NodeLogger.Noise.None,
            NodeLogger.Classify(new Info("TcpServerHandler (akka://conduit)", typeof(object), "bound")));
        // Akka's handshake, one actor per connection: a connection that never spoke times out with an error line.
        var handshake = Type.GetType("Akka.Remote.Transport.ProtocolStateActor, Akka.Remote", throwOnError: true)!;
        Assert.Equal(NodeLogger.Noise.Connection, NodeLogger.Classify(new Error(null,
            "akka://conduit/system/transports/akkaprotocolmanager.tcp.0/akkaProtocol-tcp%3A%2F%2Fconduit%40127.0.0.1%3A40412-7", handshake,
            "No response from remote for inbound association. Handshake timed out after [15000] ms")));
        // A port at its connection limit refuses one connection after another.
        Assert.Equal(NodeLogger.Noise.Connection, NodeLogger.Classify(new Warning("ConnectionGates (akka://conduit)",
            typeof(Conduit.Protocol.Remoting.ConnectionGates), "Refused a connection from 10.0.0.1 to port 4053: 1000 connections open from this source")));
    }

    [Fact(DisplayName = "a compact line has no stack trace, escapes what it prints and counts what was held back")]
    public void CompactLine()
    {
        Exception cause;
        try { throw new InvalidOperationException("outer", new SqliteException("disk\nI/O error", 10)); }
        catch (Exception e) { cause = e; }
        var line = NodeLogger.Compact(new Error(cause, "akka://x/user/w", typeof(object), "Write 5 failed\nsecond line"), "storage", 3);
        Assert.DoesNotContain("\n", line);
        Assert.DoesNotContain(" at ", line);
        Assert.Contains("Write 5 failed", line);
        Assert.DoesNotContain("second line", line);
        Assert.Contains("SqliteException", line);
        Assert.Contains("[3 more like it held back]", line);
    }

    [Fact(DisplayName = "a partition's writers, and a shard's remember-entities stores, each with a new name, count as one actor")]
    public void StorageKey()
    {
        Assert.Equal("akka://c/system/sharding/partitions/3/default%2Fq%230",
            NodeLogger.StorageKey("akka://c/system/sharding/partitions/3/default%2Fq%230/writer-1a2b3c4d"));
        Assert.Equal("akka://c/system/sharding/partitions/17/RememberEntitiesStore",
            NodeLogger.StorageKey("akka://c/system/sharding/partitions/17/RememberEntitiesStore/store-3"));
        Assert.Equal("akka://c/system/journal", NodeLogger.StorageKey("akka://c/system/journal"));
    }

    [Fact(DisplayName = "the throttle lets one line per key per interval through and counts the rest")]
    public void Throttle()
    {
        var throttle = new LogThrottle(TimeSpan.FromSeconds(1));
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Assert.True(throttle.Allow("a", t0, out var held));
        Assert.Equal(0, held);
        Assert.False(throttle.Allow("a", t0.AddMilliseconds(500), out _));
        Assert.False(throttle.Allow("a", t0.AddMilliseconds(900), out _));
        Assert.True(throttle.Allow("b", t0.AddMilliseconds(900), out _));
        Assert.True(throttle.Allow("a", t0.AddSeconds(1), out held));
        Assert.Equal(2, held);
    }
}
