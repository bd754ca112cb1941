using System.CommandLine;
using System.CommandLine.Parsing;
using Conduit.Protocol.Remoting;

namespace Conduit.Cli;

/// <summary>Options every command takes: <c>--server</c>, <c>--namespace</c>, <c>--json</c>, <c>--timeout</c>, <c>--api-key</c>, <c>--tls-cert</c>, <c>--tls-cert-password</c>, <c>--tls-ca</c>.</summary>
public static class GlobalOptions
{
    public static readonly Option<ServerAddress> Server = new("--server", "-s")
    {
        Description = $"node to talk to, host:port (${ServerAddress.EnvironmentVariable} when set)",
        HelpName = "host:port",
        Recursive = true,
        DefaultValueFactory = result =>
        {
            var fromEnv = Environment.GetEnvironmentVariable(ServerAddress.EnvironmentVariable);
            if (string.IsNullOrWhiteSpace(fromEnv)) return ServerAddress.Default;
            if (ServerAddress.TryParse(fromEnv, out var address)) return address;
            result.AddError($"{ServerAddress.EnvironmentVariable}='{fromEnv}' is not host:port (e.g. {ServerAddress.DefaultText}); fix or unset it");
            return default;
        },
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
            if (ServerAddress.TryParse(text, out var address)) return address;
            result.AddError($"--server '{text}' is not host:port: use e.g. --server {ServerAddress.DefaultText}");
            return default;
        },
    };

    /// <summary>Environment variable that gives <see cref="Namespace"/> when the option is not given.</summary>
    public const string NamespaceEnvironmentVariable = "CONDUIT_NAMESPACE";

    public static readonly Option<string> Namespace = new("--namespace", "-n")
    {
        Description = $"namespace of the queues a command names (${NamespaceEnvironmentVariable} when set; default {PartitionId.DefaultNamespace})",
        HelpName = "name",
        Recursive = true,
        DefaultValueFactory = result =>
        {
            var fromEnv = Environment.GetEnvironmentVariable(NamespaceEnvironmentVariable);
            if (string.IsNullOrEmpty(fromEnv)) return PartitionId.DefaultNamespace;
            if (NamespaceName.IsValid(fromEnv)) return fromEnv;
            result.AddError($"{NamespaceEnvironmentVariable}: {NamespaceName.Describe(SafeText.Escape(fromEnv, 140))}; fix or unset it");
            return PartitionId.DefaultNamespace;
        },
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
            if (NamespaceName.IsValid(text)) return text;
            result.AddError($"--namespace: {NamespaceName.Describe(SafeText.Escape(text, 140))}");
            return PartitionId.DefaultNamespace;
        },
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "print one JSON document on stdout instead of tables",
        Recursive = true,
    };

    public static readonly Option<TimeSpan?> Timeout = DurationOption("--timeout",
        $"how long to wait for the node (default {Durations.Format(CliSettings.DefaultTimeout)})", recursive: true);

    /// <summary>Environment variable holding the API key when <c>--api-key</c> is not given.</summary>
    public const string ApiKeyEnvironmentVariable = "CONDUIT_API_KEY";

    /// <summary>
    /// The API key to send with every request. A malformed key is a usage error that does not quote it (it may be a real
    /// key with a typo); prefer the environment variable, which stays out of shell history and process lists.
    /// </summary>
    public static readonly Option<string?> ApiKey = new("--api-key")
    {
        Description = $"API key (id.secret) to send with every request (${ApiKeyEnvironmentVariable} when set; prefer it: it stays out of shell history)",
        HelpName = "key",
        Recursive = true,
        DefaultValueFactory = result =>
        {
            var fromEnv = Environment.GetEnvironmentVariable(ApiKeyEnvironmentVariable);
            if (string.IsNullOrWhiteSpace(fromEnv)) return null;
            if (Protocol.Security.ApiKey.Problem(fromEnv.Trim()) is { } problem) result.AddError($"{ApiKeyEnvironmentVariable}: {problem}; fix or unset it");
            return fromEnv.Trim();
        },
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
            if (Protocol.Security.ApiKey.Problem(text) is { } problem) result.AddError($"--api-key: {problem}");
            return text;
        },
    };

    public static readonly Option<string?> TlsCert = FromEnvironment("--tls-cert", "CONDUIT_TLS_CERT", "FILE.pfx",
        "this side's certificate and key (client-NAME.pfx from `conduit certs`); with --tls-ca speaks mutual TLS to the node");

    public static readonly Option<string?> TlsCertPassword = FromEnvironment("--tls-cert-password", "CONDUIT_TLS_CERT_PASSWORD", "password",
        "password of the --tls-cert file (default: none)");

    public static readonly Option<string?> TlsCa = FromEnvironment("--tls-ca", "CONDUIT_TLS_CA", "FILE.pem",
        "the Conduit CA the node's certificate must chain to (ca.pem)");

    /// <summary>
    /// The global options, read. TLS files are checked here (they exist, the key is there, the certificate chains to the
    /// CA): a <see cref="TlsSettingsException"/> from here is a usage error.
    /// </summary>
    public static CliSettings Read(ParseResult parse)
    {
        var tls = TlsSettings.FromOptions(parse.GetValue(TlsCert), parse.GetValue(TlsCertPassword), parse.GetValue(TlsCa));
        tls?.Validate();
        return new CliSettings
        {
            Server = parse.GetValue(Server),
            Namespace = parse.GetValue(Namespace) ?? PartitionId.DefaultNamespace,
            Json = parse.GetValue(Json),
            Timeout = parse.GetValue(Timeout) ?? CliSettings.DefaultTimeout,
            Tls = tls,
            ApiKey = parse.GetValue(ApiKey),
        };
    }

    private static Option<string?> FromEnvironment(string name, string variable, string helpName, string description) => new(name)
    {
        Description = $"{description} (${variable} when set)",
        HelpName = helpName,
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : null,
    };

    /// <summary>
    /// An option holding a duration such as <c>30s</c> (null when not given: the caller applies its documented default,
    /// which the description names); a bad value is a usage error naming the accepted forms.
    /// </summary>
    public static Option<TimeSpan?> DurationOption(string name, string description, bool recursive = false) => new(name)
    {
        Description = description,
        HelpName = "duration",
        Recursive = recursive,
        CustomParser = result => ParseDuration(name, result),
    };

    private static TimeSpan? ParseDuration(string name, ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
        if (Durations.TryParse(text, out var duration)) return duration;
        result.AddError($"{name} '{text}' is not a duration: use e.g. {Durations.Examples}");
        return default;
    }
}
