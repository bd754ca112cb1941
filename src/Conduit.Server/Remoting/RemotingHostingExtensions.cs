using Akka.Hosting;
using Conduit.Protocol.Remoting;

namespace Conduit.Server.Remoting;

/// <summary>Puts a <see cref="RemotingEndpoint"/> on an Akka.Hosting system (a node's cluster system).</summary>
public static class RemotingHostingExtensions
{
    /// <summary>
    /// The endpoint's remoting HOCON (host, port, frame size, enable-ssl), prepended so it wins over defaults, and its
    /// TLS setup when it has TLS. Use instead of <c>WithRemoting(host, port)</c>; the provider (cluster) is set by
    /// <c>WithClustering</c>. The endpoint's <see cref="RemotingEndpoint.Tls"/> must outlive the system.
    /// </summary>
    public static AkkaConfigurationBuilder WithConduitRemoting(this AkkaConfigurationBuilder builder, RemotingEndpoint endpoint)
    {
        builder.AddHocon(endpoint.ToConfig(), HoconAddMode.Prepend);
        if (endpoint.SslSetup() is { } ssl) builder.AddSetup(ssl);
        return builder;
    }
}
