using System.CommandLine;
using System.CommandLine.Parsing;

namespace Conduit.Cli;

/// <summary>Options every command takes: <c>--server</c>, <c>--namespace</c>, <c>--json</c>, <c>--timeout</c>.</summary>
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

    public static CliSettings Read(ParseResult parse) => new()
    {
        Server = parse.GetValue(Server),
        Namespace = parse.GetValue(Namespace) ?? PartitionId.DefaultNamespace,
        Json = parse.GetValue(Json),
        Timeout = parse.GetValue(Timeout) ?? CliSettings.DefaultTimeout,
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
