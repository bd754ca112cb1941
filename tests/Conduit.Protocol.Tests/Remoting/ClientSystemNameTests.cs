using Conduit.Protocol.Remoting;
using Xunit;

namespace Conduit.Protocol.Tests.Remoting;

public sealed class ClientSystemNameTests
{
    [Fact(DisplayName = "a client's system name is its kind and 32 random hex digits, a new one each time")]
    public void NewNames()
    {
        var a = ClientSystemName.New(WireNames.ClientLibrarySystemName);
        var b = ClientSystemName.New(WireNames.ClientLibrarySystemName);
        Assert.Matches("^conduit-client-[0-9a-f]{32}$", a);
        Assert.Matches("^conduit-cli-[0-9a-f]{32}$", ClientSystemName.New(WireNames.CliSystemName));
        Assert.NotEqual(a, b);
    }

    [Fact(DisplayName = "redacting leaves out the random part of client and CLI names, also URL-encoded, and nothing else")]
    public void Redacts()
    {
        var client = ClientSystemName.New(WireNames.ClientLibrarySystemName);
        var cli = ClientSystemName.New(WireNames.CliSystemName);
        Assert.Equal("ops@akka.tcp://conduit-client@web-1:40000/temp/$a", ClientSystemName.Redact($"ops@akka.tcp://{client}@web-1:40000/temp/$a"));
        Assert.Equal("to akka.ssl.tcp://conduit-cli@10.0.0.5:41234 and akka.tcp://conduit-client@h:1",
            ClientSystemName.Redact($"to akka.ssl.tcp://{cli}@10.0.0.5:41234 and akka.tcp://{client}@h:1"));
        Assert.Equal("reliableEndpointWriter-akka.tcp%3A%2F%2Fconduit-client%40h%3A1-2",
            ClientSystemName.Redact($"reliableEndpointWriter-{Uri.EscapeDataString($"akka.tcp://{client}@h:1")}-2"));
        foreach (var untouched in new[]
                 {
                     "akka.tcp://conduit@127.0.0.1:4053", "conduit-client-endpoint", "trace 4bf92f3577b34da6a3ce929d0e0e4736",
                     "akka.tcp://my-conduit-client-4bf92f3577b34da6a3ce929d0e0e4736@h:1", "conduit-client-4bf92f3577b34da6a3ce929d0e0e47",
                 })
            Assert.Equal(untouched, ClientSystemName.Redact(untouched));
    }
}
