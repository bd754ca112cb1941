using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Conduit.Protocol.Remoting;
using Conduit.Server.Remoting;
using Conduit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Conduit.Protocol.Tests.Remoting;

/// <summary>
/// The wiring a node uses for its Akka.Hosting system (the cluster system): <c>WithConduitRemoting</c> (the endpoint's
/// HOCON prepended, its TLS setup added to the builder) with the cluster provider.
/// </summary>
public sealed class HostedTlsTests(TestCertificates certs) : IClassFixture<TestCertificates>
{
    [Fact(DisplayName = "an Akka.Hosting cluster system wired with WithConduitRemoting listens on akka.ssl.tcp and talks to a node peer")]
    public async Task HostedClusterSystemSpeaksTls()
    {
        var endpoint = new RemotingEndpoint
        {
            Host = "127.0.0.1", Port = 0, Tls = TestCertificates.Load(certs.NodeA, certs.CaA), Peers = PeerPolicy.NodesOnly,
        };
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddAkka("conduit-cluster", akka =>
        {
            akka.WithConduitRemoting(endpoint)
                .AddHocon("akka.loglevel = WARNING\nakka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
                .WithClustering(new ClusterOptions());
            akka.WithActors((system, _) => system.ActorOf(Props.Create(() => new Echo()), "echo"));
        });
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            var address = ((ExtendedActorSystem)system).Provider.DefaultAddress;
            Assert.Equal("akka.ssl.tcp", address.Protocol);

            await using var peer = TlsPeer.Start("peer", TestCertificates.Load(certs.NodeA2, certs.CaA));
            var reply = await peer.System.ActorSelection($"{address}/user/echo").Ask<object>("over tls", TimeSpan.FromSeconds(10));
            Assert.Equal("over tls", reply);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender.Tell(m));
    }
}
