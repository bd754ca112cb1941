using System.Globalization;
using Conduit.Client;
using Conduit.Client.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Samples;

/// <summary>
/// The samples' command line: <c>--server host:port</c>, <c>--queue NAME</c>, <c>--count N</c>, and what a secured
/// cluster needs: <c>--api-key</c>, <c>--namespace</c>, <c>--tls-cert</c>, <c>--tls-cert-password</c>, <c>--tls-ca</c>
/// (each also from the environment, as the CLI reads them).
/// </summary>
internal sealed record SampleArguments(string Server, string Queue, int Count)
{
    public const string DefaultQueue = "samples";

    public string? ApiKey { get; init; }
    public string Namespace { get; init; } = ConduitClientOptions.DefaultNamespace;
    public string? TlsCertificatePath { get; init; }
    public string? TlsCertificatePassword { get; init; }
    public string? TlsCaPath { get; init; }

    public static string Usage(string program, string countMeaning) =>
        $"""
        Usage: {program} [--server host:port] [--queue NAME] [--count N] [--namespace NS] [--api-key KEY]
                 [--tls-cert FILE.pfx --tls-ca ca.pem [--tls-cert-password P]]
          --server             a Conduit node (default {ConduitClientOptions.DefaultServer}, env CONDUIT_SERVER)
          --queue              the queue (default {DefaultQueue})
          --count              {countMeaning}
          --namespace          the queue's namespace (default {ConduitClientOptions.DefaultNamespace}, env CONDUIT_NAMESPACE)
          --api-key            API key, for a node with a keys file (env CONDUIT_API_KEY; prefer the environment)
          --tls-cert           client certificate (.pfx), for a node with TLS (env CONDUIT_TLS_CERT)
          --tls-cert-password  its password, if it has one (env CONDUIT_TLS_CERT_PASSWORD)
          --tls-ca             the CA certificate(s) (.pem) the node's certificate must chain to (env CONDUIT_TLS_CA)
        """;

    /// <summary>Parses <paramref name="args"/>; null (after printing why) when they are wrong.</summary>
    public static SampleArguments? Parse(string[] args, int defaultCount, string usage)
    {
        static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

        var server = Env("CONDUIT_SERVER") ?? ConduitClientOptions.DefaultServer;
        var queue = DefaultQueue;
        var count = defaultCount;
        var ns = Env("CONDUIT_NAMESPACE") ?? ConduitClientOptions.DefaultNamespace;
        var apiKey = Env("CONDUIT_API_KEY");
        var tlsCert = Env("CONDUIT_TLS_CERT");
        var tlsCertPassword = Env("CONDUIT_TLS_CERT_PASSWORD");
        var tlsCa = Env("CONDUIT_TLS_CA");
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--server" when value is not null: server = value; i++; break;
                case "--queue" when value is not null: queue = value; i++; break;
                case "--count" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out count): i++; break;
                case "--namespace" or "-n" when value is not null: ns = value; i++; break;
                case "--api-key" when value is not null: apiKey = value; i++; break;
                case "--tls-cert" when value is not null: tlsCert = value; i++; break;
                case "--tls-cert-password" when value is not null: tlsCertPassword = value; i++; break;
                case "--tls-ca" when value is not null: tlsCa = value; i++; break;
                default:
                    // Echo only a bad --count value: what follows anything else might be a key or a password.
                    var shown = args[i] == "--count" && value is not null ? $" {value}" : "";
                    Console.Error.WriteLine($"error: unexpected '{args[i]}'{shown}");
                    Console.Error.WriteLine(usage);
                    return null;
            }
        }
        if (Problem(apiKey, ns, tlsCert, tlsCertPassword, tlsCa) is { } problem)
        {
            Console.Error.WriteLine($"error: {problem}");
            Console.Error.WriteLine(usage);
            return null;
        }
        return new SampleArguments(server, queue, count)
        {
            ApiKey = apiKey, Namespace = ns, TlsCertificatePath = tlsCert, TlsCertificatePassword = tlsCertPassword, TlsCaPath = tlsCa,
        };
    }

    /// <summary>What is wrong with the security options, named as on the command line; null when nothing is.</summary>
    private static string? Problem(string? apiKey, string ns, string? tlsCert, string? tlsCertPassword, string? tlsCa)
    {
        if (apiKey is not null && Protocol.Security.ApiKey.Problem(apiKey) is { } keyProblem) return $"--api-key: {keyProblem}"; // never the key itself
        if (!Protocol.NamespaceName.IsValid(ns)) return $"--namespace: {Protocol.NamespaceName.Describe(Protocol.SafeText.Escape(ns, 140))}";
        try
        {
            // Both files or neither; they open, and the certificate chains to the CA.
            Protocol.Remoting.TlsSettings.FromOptions(tlsCert, tlsCertPassword, tlsCa)?.Load(Protocol.Remoting.CertificateRole.Client).Dispose();
            return null;
        }
        catch (Protocol.Remoting.TlsSettingsException e)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// Registers the shared <see cref="ConduitClient"/> with these arguments. False (after printing why) when the client
    /// refuses them: a key not of the form id.secret, a bad namespace name, TLS files that are missing or do not open.
    /// </summary>
    public bool TryAddConduitClient(IServiceCollection services, string usage)
    {
        try
        {
            services.AddConduitClient(Apply(new ConduitClientOptions()));
            return true;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(usage);
            return false;
        }
    }

    /// <summary>Puts these arguments into <paramref name="options"/> and returns it.</summary>
    public ConduitClientOptions Apply(ConduitClientOptions options)
    {
        options.Servers = [Server];
        options.Namespace = Namespace;
        options.ApiKey = ApiKey;
        options.TlsCertificatePath = TlsCertificatePath;
        options.TlsCertificatePassword = TlsCertificatePassword;
        options.TlsCaPath = TlsCaPath;
        return options;
    }
}
