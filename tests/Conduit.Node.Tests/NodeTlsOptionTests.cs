using Conduit.Testing;
using Xunit;

namespace Conduit.Node.Tests;

/// <summary>The node's TLS options: checked before anything starts, and plain TCP only on loopback unless asked for.</summary>
public sealed class NodeTlsOptionTests(TestCertificates certs) : IClassFixture<TestCertificates>
{
    [Fact(DisplayName = "a node on a host other than loopback without TLS refuses to start, exit code 2")]
    public async Task NonLoopbackWithoutTlsRefused()
    {
        await using var node = NodeProcess.Start("--host", "10.20.30.40", "--port", "0");
        Assert.Equal(2, await node.WaitForExit());
        Assert.Contains("--host 10.20.30.40 is reachable from other machines", node.Output);
        Assert.Contains("--insecure", node.Output);
    }

    [Fact(DisplayName = "--insecure lets a node run plain TCP on a host other than loopback")]
    public async Task InsecureAllowsPlainTcp()
    {
        var data = Path.Combine(Path.GetTempPath(), "conduit-node-tests", Guid.NewGuid().ToString("N"));
        await using var node = NodeProcess.Start("--host", "0.0.0.0", "--port", "0", "--insecure", "--data", data);
        await node.WaitForOutput("Conduit node listening on akka.tcp://conduit@0.0.0.0:");
        Assert.Equal(0, await node.InterruptAndWait());
    }

    [Theory(DisplayName = "TLS options that cannot work exit with code 2 and say which file is wrong")]
    [InlineData("only-cert", "--tls-ca is missing")]
    [InlineData("only-ca", "--tls-cert is missing")]
    [InlineData("missing-files", "does not exist")]
    [InlineData("client-cert", "is a client certificate")]
    [InlineData("other-ca", "does not chain to the CA")]
    public async Task BadTlsOptions(string setup, string message)
    {
        string[] args = setup switch
        {
            "only-cert" => ["--tls-cert", certs.NodeA],
            "only-ca" => ["--tls-ca", certs.CaA],
            "missing-files" => ["--tls-cert", Path.Combine(certs.Directory, "nope.pfx"), "--tls-ca", certs.CaA],
            "client-cert" => ["--tls-cert", certs.ClientA, "--tls-ca", certs.CaA],
            _ => ["--tls-cert", certs.NodeB, "--tls-ca", certs.CaA],
        };
        await using var node = NodeProcess.Start(args);
        Assert.Equal(2, await node.WaitForExit());
        Assert.Contains(message, node.Output);
    }
}
