using System.CommandLine;
using System.Text;
using Conduit.Server.Configuration;

namespace Conduit.Node;

/// <summary>
/// The node's flags (System.CommandLine), made from the options that carry a <see cref="FlagAttribute"/> in
/// <see cref="ConduitNodeOptions"/>: each flag given becomes its option's configuration key (<c>--port 4053</c> is
/// <c>Conduit:Port = 4053</c>), the highest of the node's configuration sources (<see cref="NodeConfiguration"/>).
/// So a flag, its environment variable and its appsettings key are one option, bound and checked in one place.
/// </summary>
public static class NodeCommandLine
{
    public sealed class UsageException(string message) : Exception(message);

    private static readonly Lazy<(RootCommand Root, IReadOnlyList<(Option Option, OptionInfo Info)> Flags)> Parser = new(Build);

    private static (RootCommand, IReadOnlyList<(Option, OptionInfo)>) Build()
    {
        var root = new RootCommand("Conduit.Node: a node of a Conduit cluster.") { TreatUnmatchedTokensAsErrors = false };
        var flags = new List<(Option, OptionInfo)>();
        foreach (var info in OptionCatalog.Options.Where(o => o.Flag is not null))
        {
            Option option = info.Type == typeof(bool)
                ? new Option<bool>(info.Flag!) { Description = info.FlagHelp }
                : info.Repeatable
                    ? new Option<string[]>(info.Flag!) { Description = info.FlagHelp, HelpName = info.FlagValueName, AllowMultipleArgumentsPerToken = false }
                    : new Option<string>(info.Flag!) { Description = info.FlagHelp, HelpName = info.FlagValueName };
            root.Options.Add(option);
            flags.Add((option, info));
        }
        return (root, flags);
    }

    /// <summary>The flags in <paramref name="args"/> as configuration keys and values; a flag that is not one, or lacks its value, is a <see cref="UsageException"/>.</summary>
    public static IReadOnlyDictionary<string, string?> Parse(string[] args)
    {
        var (root, flags) = Parser.Value;
        var result = root.Parse(args);
        if (result.UnmatchedTokens.Count > 0) throw new UsageException($"unknown option '{result.UnmatchedTokens[0]}'");
        if (result.Errors.Count > 0) throw new UsageException(result.Errors[0].Message);
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (option, info) in flags)
        {
            if (result.GetResult(option) is not { Implicit: false }) continue;
            values[info.Key] = option switch
            {
                Option<bool> b => result.GetValue(b) ? "true" : "false",
                Option<string[]> list => string.Join(",", result.GetValue(list) ?? []),
                Option<string> text => result.GetValue(text),
                _ => null,
            };
        }
        return values;
    }

    /// <summary>The usage text: every flag with its environment variable and default.</summary>
    public static string Usage
    {
        get
        {
            var text = new StringBuilder("Usage: Conduit.Node [options]\n");
            foreach (var info in OptionCatalog.Options.Where(o => o.Flag is not null))
            {
                var flag = info.FlagValueName is { Length: > 0 } value ? $"{info.Flag} {value}" : info.Flag!;
                text.Append("  ").Append(flag.PadRight(30)).Append(' ').Append(info.FlagHelp);
                if (info.DefaultText != "none" || info.Type != typeof(string)) text.Append($" (default {info.DefaultText})");
                text.Append('\n').Append(' ', 33).Append("env ").Append(info.EnvironmentName);
                if (info.Repeatable) text.Append(" (comma-separated)");
                text.Append('\n');
            }
            text.Append("  --help                         this text\n");
            text.Append("Every option, and the ones without a flag (partition policy, per-queue overrides, gateway bounds), can be set\n");
            text.Append("in appsettings.json (section \"Conduit\") or as CONDUIT__SECTION__OPTION environment variables: docs/configuration.md.\n");
            text.Append("Precedence: flags, then environment, then appsettings.json, then defaults.");
            return text.ToString();
        }
    }
}
