using Akka.Actor;
using Conduit.Protocol;
using Conduit.Protocol.Serialization;
using Conduit.Server.Tests.Conformance;
using Conduit.Testing;
using Xunit;

namespace Conduit.Server.Tests.Security;

/// <summary>
/// Over real remoting: a stranger's ActorSystem with Akka's stock serialization (JSON for any unbound type) sends a
/// node's frontend messages that name a .NET type: JSON with <c>$type</c>, and a Status.Failure whose exception type
/// Akka.Remote would build. The node must refuse them without creating the type, and keep serving. The attacker also knows Conduit's protocol binding, so it can send a normal request over the same
/// association right after: remoting delivers in order, so once that answer is back the node has already read (and
/// refused) the JSON message before it. No waiting for "nothing happened".
/// </summary>
public sealed class UntrustedRemoteMessageTests(SqliteNodeFixture fixture)
    : Akka.TestKit.Xunit2.TestKit(AttackerHocon, "attacker"), IClassFixture<SqliteNodeFixture>
{
    /// <summary>Akka's stock config (JSON stays the default for unbound types) plus only the protocol binding; no refusal, not strict.</summary>
    private static readonly string AttackerHocon = $$"""
        akka.loglevel = WARNING
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
        {{ConduitSerialization.BindingHocon}}
        """;

    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(20);

    private ActorSelection Frontend => Sys.ActorSelection($"akka.tcp://conduit@127.0.0.1:{fixture.Node.Port}/user/frontend");

    [Theory(DisplayName = "JSON naming a type, sent to a node's frontend, is refused unbuilt; no reply, and the node keeps serving")]
    [InlineData(false)]
    [InlineData(true)]
    public void JsonNamingATypeIsRefused(bool nested)
    {
        var marker = Guid.NewGuid().ToString("N");
        var canary = SerializationCanary.Armed(marker);
        object message = nested ? new CanaryHolder { Payload = canary } : canary;
        // The attacker really sends JSON (id 1) naming the type with $type.
        var serializer = Sys.Serialization.FindSerializerFor(message);
        Assert.Equal(1, serializer.Identifier);
        Assert.Contains("$type", System.Text.Encoding.UTF8.GetString(serializer.ToBinary(message)));

        Frontend.Tell(message, TestActor);
        Frontend.Tell(new GetQueueStats("json-refusal"), TestActor);

        // The first answer is the one to the normal request: nothing came back for the JSON message.
        ExpectMsg<QueueStats>(stats => stats.Queue == "json-refusal", AnswerTimeout);
        Assert.False(SerializationCanary.SetterRanWith(marker), "the node ran a setter of a type named in JSON from the network");
        ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact(DisplayName = "a Status.Failure naming an exception type, sent to a node's frontend, is refused unbuilt, and the node keeps serving")]
    public void StatusFailureIsRefused()
    {
        var marker = Guid.NewGuid().ToString("N");

        Frontend.Tell(new Status.Failure(new CanaryException(marker)), TestActor);
        Frontend.Tell(new GetQueueStats("status-failure-refusal"), TestActor);

        ExpectMsg<QueueStats>(stats => stats.Queue == "status-failure-refusal", AnswerTimeout);
        Assert.False(SerializationCanary.SetterRanWith(marker), "the node built an exception of a type named by the sender");
        ExpectNoMsg(TimeSpan.Zero);
    }
}
