using System.Collections;
using System.Globalization;
using System.Reflection;

namespace Conduit.Server.Configuration;

/// <summary>
/// One option of <see cref="ConduitNodeOptions"/> as configuration names it: its key (<c>Conduit:Partition:LeaseTimeoutMs</c>),
/// its environment variable (<c>CONDUIT__PARTITION__LEASETIMEOUTMS</c>: the key upper-cased, <c>:</c> written <c>__</c>, the
/// standard .NET scheme), its flag and deprecated environment name if it has them, and its default.
/// Per-queue options have <c>&lt;queue&gt;</c> in their key, for the queue's key.
/// </summary>
public sealed record OptionInfo(string Key, PropertyInfo Property, string? Flag, bool Repeatable, string? FlagValueName, string? FlagHelp,
    string? DeprecatedEnvironmentName, string DefaultText)
{
    public Type Type => Property.PropertyType;
    public string EnvironmentName => OptionCatalog.EnvironmentNameOf(Key);
}

/// <summary>Every option of <see cref="ConduitNodeOptions"/>, found by reflection: the one list binding, usage text and docs checks use.</summary>
public static class OptionCatalog
{
    /// <summary>Stands for a queue's key (<c>q</c> or <c>ns/q</c>) in the keys of per-queue options.</summary>
    public const string QueuePlaceholder = "<queue>";

    private static readonly Lazy<IReadOnlyList<OptionInfo>> All = new(() => Walk(typeof(ConduitNodeOptions), new ConduitNodeOptions(), ConduitNodeOptions.SectionName).ToList());

    public static IReadOnlyList<OptionInfo> Options => All.Value;

    /// <summary>The environment variable for configuration key <paramref name="key"/>: upper case, sections joined by <c>__</c>.</summary>
    public static string EnvironmentNameOf(string key) => key.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant()
        .Replace(QueuePlaceholder.ToUpperInvariant(), QueuePlaceholder, StringComparison.Ordinal);

    /// <summary>The options properties of <paramref name="type"/> (public, settable, not marked <see cref="NotAnOptionAttribute"/>).</summary>
    public static IEnumerable<PropertyInfo> PropertiesOf(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } && p.GetCustomAttribute<NotAnOptionAttribute>() is null);

    /// <summary>Whether <paramref name="type"/> is a section (an options class of its own) rather than a value.</summary>
    public static bool IsSection(Type type) =>
        type.IsClass && type != typeof(string) && type != typeof(Uri) && !typeof(IEnumerable).IsAssignableFrom(type);

    private static IEnumerable<OptionInfo> Walk(Type type, object defaults, string prefix)
    {
        foreach (var property in PropertiesOf(type))
        {
            var key = $"{prefix}:{property.Name}";
            var value = property.GetValue(defaults);
            if (IsSection(property.PropertyType))
            {
                foreach (var inner in Walk(property.PropertyType, value!, key)) yield return inner;
            }
            else if (property.PropertyType == typeof(IReadOnlyDictionary<string, QueueOverrides>))
            {
                foreach (var inner in Walk(typeof(QueueOverrides), new QueueOverrides(), $"{key}:{QueuePlaceholder}")) yield return inner;
            }
            else
            {
                var flag = property.GetCustomAttribute<FlagAttribute>();
                yield return new OptionInfo(key, property, flag?.Name, flag?.Repeatable ?? false, flag?.ValueName, flag?.Help,
                    property.GetCustomAttribute<DeprecatedEnvironmentNameAttribute>()?.Name, Describe(value));
            }
        }
    }

    /// <summary>A value as the docs write it.</summary>
    public static string Describe(object? value) => value switch
    {
        null => "none",
        string s => s,
        bool b => b ? "true" : "false",
        Enum e => e.ToString().ToLowerInvariant(),
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IDictionary { Count: 0 } => "none",
        IEnumerable<string> list => list.Any() ? string.Join(",", list) : "none",
        _ => value.ToString() ?? "none",
    };
}
