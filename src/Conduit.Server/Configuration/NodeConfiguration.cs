using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Conduit.Server.Configuration;

/// <summary>
/// Binds <see cref="ConduitNodeOptions"/> from configuration: the <c>Conduit</c> section, whatever source holds it.
/// The node builds that configuration from, lowest first: <c>appsettings.json</c> beside the executable, then one in the
/// working directory, the deprecated <c>CONDUIT_PORT</c>-style names (<see cref="DeprecatedEnvironmentSource"/>), the
/// environment (<c>CONDUIT__PORT</c>), and the command line's flags (<see cref="FlagsConfigurationSource"/>); a higher one
/// wins, a list (roles, seeds, per-queue partitions) is taken whole from the highest source that gives it.
/// A value that does not parse, or a key under <c>Conduit</c> that names no option, is an <see cref="OptionsException"/>
/// naming the option as it was given and its other names.
/// </summary>
public static class NodeConfiguration
{
    public const string AppSettingsFile = "appsettings.json";

    /// <summary>
    /// The node's configuration sources, lowest first: <c>appsettings.json</c> beside the executable
    /// (<paramref name="baseDirectory"/>), <c>appsettings.json</c> in the working directory when that is another directory,
    /// the deprecated <c>CONDUIT_PORT</c>-style names, the environment, then <paramref name="flags"/>.
    /// </summary>
    public static IConfigurationBuilder AddConduitNodeSources(this IConfigurationBuilder builder, IReadOnlyDictionary<string, string?> flags,
        string? baseDirectory = null, string? workingDirectory = null)
    {
        baseDirectory = Path.GetFullPath(baseDirectory ?? AppContext.BaseDirectory);
        workingDirectory = Path.GetFullPath(workingDirectory ?? Directory.GetCurrentDirectory());
        builder.AddJsonFile(Path.Combine(baseDirectory, AppSettingsFile), optional: true, reloadOnChange: false);
        if (!string.Equals(baseDirectory.TrimEnd(Path.DirectorySeparatorChar), workingDirectory.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
            builder.AddJsonFile(Path.Combine(workingDirectory, AppSettingsFile), optional: true, reloadOnChange: false);
        return builder
            .Add(new DeprecatedEnvironmentSource())
            .AddEnvironmentVariables()
            .Add(new FlagsConfigurationSource(flags));
    }

    public static ConduitNodeOptions Bind(IConfiguration configuration)
    {
        CheckUnknownKeys(configuration);
        return (ConduitNodeOptions)BindSection(configuration, typeof(ConduitNodeOptions), ConduitNodeOptions.SectionName);
    }

    private static object BindSection(IConfiguration configuration, Type type, string prefix)
    {
        var instance = Activator.CreateInstance(type)!;
        foreach (var property in OptionCatalog.PropertiesOf(type))
        {
            var key = $"{prefix}:{property.Name}";
            var propertyType = property.PropertyType;
            if (OptionCatalog.IsSection(propertyType))
                property.SetValue(instance, BindSection(configuration, propertyType, key));
            else if (propertyType == typeof(IReadOnlyDictionary<string, QueueOverrides>))
                property.SetValue(instance, BindQueues(configuration, key));
            else if (propertyType == typeof(IReadOnlyList<string>))
            {
                if (ReadList(configuration, key) is { } list) property.SetValue(instance, list);
            }
            else if (propertyType == typeof(IReadOnlyDictionary<string, int>))
            {
                if (ReadCounts(configuration, key) is { } counts) property.SetValue(instance, counts);
            }
            else if (configuration[key] is { } text && !string.IsNullOrWhiteSpace(text))
                property.SetValue(instance, ParseScalar(configuration, key, text.Trim(), propertyType));
        }
        return instance;
    }

    private static Dictionary<string, QueueOverrides> BindQueues(IConfiguration configuration, string key)
    {
        var queues = new Dictionary<string, QueueOverrides>(StringComparer.Ordinal);
        foreach (var child in configuration.GetSection(key).GetChildren())
        {
            if (!Frontend.QueueTopology.IsValidQueueKey(child.Key))
                throw new OptionsException(OptionNames.Describe(configuration, child.Path,
                    $"names no queue: '{SafeText.Escape(child.Key, 140)}' is neither a queue name nor namespace/queue (lower case letters, digits, '.', '_', '-')"));
            queues[child.Key] = (QueueOverrides)BindSection(configuration, typeof(QueueOverrides), child.Path);
        }
        return queues;
    }

    /// <summary>A list: comma-separated in one value, or an array (<c>Seeds:0</c>, <c>Seeds:1</c>), from the highest source that has it.</summary>
    private static IReadOnlyList<string>? ReadList(IConfiguration configuration, string key)
    {
        if (OptionNames.HighestSourceOf(configuration, key) is not { } source) return null;
        if (source.TryGet(key, out var text) && !string.IsNullOrWhiteSpace(text))
            return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return source.GetChildKeys([], key).Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(child => (Index: int.TryParse(child, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : int.MaxValue, Child: child))
            .OrderBy(c => c.Index)
            .Select(c => source.TryGet($"{key}:{c.Child}", out var v) ? v?.Trim() : null)
            .Where(v => !string.IsNullOrEmpty(v))
            .Select(v => v!)
            .ToArray();
    }

    /// <summary>
    /// Counts by queue key: <c>q=N,ns/q=N</c> in one value, or a map (<c>QueuePartitions:emails = 4</c>), from the highest
    /// source that has it. Keys are checked by <see cref="NodeSettingsFactory"/>.
    /// </summary>
    private static IReadOnlyDictionary<string, int>? ReadCounts(IConfiguration configuration, string key)
    {
        if (OptionNames.HighestSourceOf(configuration, key) is not { } source) return null;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        if (source.TryGet(key, out var text) && !string.IsNullOrWhiteSpace(text))
        {
            foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var eq = pair.IndexOf('=');
                if (eq <= 0 || !int.TryParse(pair.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                    throw new OptionsException(OptionNames.Describe(configuration, key, NodeSettingsFactory.QueueCountRule + $", not '{SafeText.Escape(pair, 200)}'"));
                counts[pair[..eq]] = n;
            }
            return counts;
        }
        foreach (var child in source.GetChildKeys([], key).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            source.TryGet($"{key}:{child}", out var value);
            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                throw new OptionsException(OptionNames.Describe(configuration, $"{key}:{child}", $"must be a number of partitions 1..{ConduitNodeOptions.MaxPartitions}, not '{SafeText.Escape(value, 100)}'"));
            counts[child] = n;
        }
        return counts;
    }

    private static object ParseScalar(IConfiguration configuration, string key, string text, Type type)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        object? value = target switch
        {
            _ when target == typeof(string) => text,
            _ when target == typeof(int) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null,
            _ when target == typeof(long) => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null,
            _ when target == typeof(double) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null,
            _ when target == typeof(bool) => bool.TryParse(text, out var b) ? b : null,
            _ when target == typeof(TimeSpan) => TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var t) ? t : null,
            _ when target == typeof(Uri) => Uri.TryCreate(text, UriKind.Absolute, out var u) ? u : null,
            _ when target.IsEnum => Enum.GetNames(target).FirstOrDefault(n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase)) is { } name
                ? Enum.Parse(target, name)
                : null,
            _ => throw new InvalidOperationException($"option {key} has a type the binder does not know: {type}"),
        };
        return value ?? throw new OptionsException(OptionNames.Describe(configuration, key, $"{Expected(target)}, not '{SafeText.Escape(text, 200)}'"));
    }

    private static string Expected(Type type) => type switch
    {
        _ when type == typeof(int) || type == typeof(long) => "must be a number",
        _ when type == typeof(double) => "must be a number (like 0.2)",
        _ when type == typeof(bool) => "must be true or false",
        _ when type == typeof(TimeSpan) => "must be a duration (hh:mm:ss, like 00:00:02)",
        _ when type == typeof(Uri) => "must be an absolute URL (like http://collector:4317)",
        _ when type.IsEnum => $"must be one of {string.Join(", ", Enum.GetNames(type).Select(n => n.ToLowerInvariant()))}",
        _ => "is not valid",
    };

    /// <summary>A key under <c>Conduit</c> that names no option is refused: a typo must not silently leave a default in place.</summary>
    private static void CheckUnknownKeys(IConfiguration configuration)
    {
        var section = configuration.GetSection(ConduitNodeOptions.SectionName);
        foreach (var (relative, value) in section.AsEnumerable(makePathsRelative: true))
        {
            if (value is null) continue; // a section, not a value
            var key = $"{ConduitNodeOptions.SectionName}:{relative}";
            if (!IsKnown(key))
            {
                var who = OptionNames.Who(configuration, key);
                var env = OptionCatalog.EnvironmentNameOf(key);
                throw new OptionsException($"{who} names no option{(who == env ? "" : $" (environment {env})")}; docs/configuration.md lists them");
            }
        }
    }

    private static bool IsKnown(string key)
    {
        if (OptionNames.Find(key) is not null) return true;
        // The items of a list or map: Conduit:Seeds:0, Conduit:QueuePartitions:emails.
        var parent = key[..Math.Max(0, key.LastIndexOf(':'))];
        return OptionNames.Find(parent) is { } option
               && (option.Type == typeof(IReadOnlyList<string>) || option.Type == typeof(IReadOnlyDictionary<string, int>));
    }
}
