using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;

namespace Conduit.Server.Configuration;

/// <summary>The command line's flags, as configuration keys (<c>Conduit:Port</c>): the highest source.</summary>
public sealed class FlagsConfigurationSource(IReadOnlyDictionary<string, string?> values) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new FlagsConfigurationProvider(values);
}

internal sealed class FlagsConfigurationProvider : ConfigurationProvider
{
    public FlagsConfigurationProvider(IReadOnlyDictionary<string, string?> values)
    {
        foreach (var (key, value) in values) Data[key] = value;
    }
}

/// <summary>
/// The environment names from before the <c>CONDUIT__</c> scheme (<c>CONDUIT_PORT</c>, ...; see
/// <see cref="DeprecatedEnvironmentNameAttribute"/>), read as their options' keys. Added below the environment variables,
/// so a <c>CONDUIT__PORT</c> wins over a <c>CONDUIT_PORT</c>.
/// </summary>
public sealed class DeprecatedEnvironmentSource(Func<string, string?>? read = null) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new DeprecatedEnvironmentProvider(read ?? Environment.GetEnvironmentVariable);
}

internal sealed class DeprecatedEnvironmentProvider(Func<string, string?> read) : ConfigurationProvider
{
    public override void Load()
    {
        foreach (var option in OptionCatalog.Options)
            if (option.DeprecatedEnvironmentName is { } name && read(name) is { } value)
                Data[option.Key] = value;
    }

    /// <summary>The deprecated name that set <paramref name="key"/> in this source.</summary>
    public static string? NameOf(string key) =>
        OptionCatalog.Options.FirstOrDefault(o => string.Equals(o.Key, key, StringComparison.OrdinalIgnoreCase))?.DeprecatedEnvironmentName;
}

/// <summary>Which source gave an option its value, and how to name the option to whoever set it.</summary>
internal static class OptionNames
{
    /// <summary>
    /// The option as the user wrote it: the flag, the environment variable (new or deprecated name) or the appsettings key
    /// and file, from the highest source that sets <paramref name="key"/> (or something under it); the key when none does.
    /// </summary>
    public static string Who(IConfiguration configuration, string key)
    {
        var option = Find(key);
        return SourceOf(configuration, key) switch
        {
            FlagsConfigurationProvider when option?.Flag is { } flag => flag,
            DeprecatedEnvironmentProvider => DeprecatedEnvironmentProvider.NameOf(key) ?? key,
            EnvironmentVariablesConfigurationProvider => OptionCatalog.EnvironmentNameOf(key),
            FileConfigurationProvider file => $"{key} (in {file.Source.FileProvider?.GetFileInfo(file.Source.Path ?? "").PhysicalPath ?? file.Source.Path})",
            _ => key,
        };
    }

    /// <summary>Every name of the option: appsettings key, environment variable(s), flag.</summary>
    public static string All(string key)
    {
        var option = Find(key);
        var names = new List<string> { $"appsettings {key}", $"environment {OptionCatalog.EnvironmentNameOf(key)}" };
        if (option?.DeprecatedEnvironmentName is { } old) names.Add($"or {old} (deprecated)");
        if (option?.Flag is { } flag) names.Add($"flag {flag}");
        return string.Join(", ", names);
    }

    public static string Describe(IConfiguration configuration, string key, string problem) =>
        $"{Who(configuration, key)}{(problem.StartsWith(':') ? "" : " ")}{problem} ({All(key)})";

    /// <summary>The option of <paramref name="key"/>; a per-queue key matches its <see cref="OptionCatalog.QueuePlaceholder"/> entry.</summary>
    public static OptionInfo? Find(string key)
    {
        var exact = OptionCatalog.Options.FirstOrDefault(o => string.Equals(o.Key, key, StringComparison.OrdinalIgnoreCase));
        if (exact is not null) return exact;
        var parts = key.Split(':');
        var queues = $"{ConduitNodeOptions.SectionName}:{nameof(ConduitNodeOptions.Queues)}";
        if (parts.Length == 4 && parts[2] != OptionCatalog.QueuePlaceholder && string.Equals($"{parts[0]}:{parts[1]}", queues, StringComparison.OrdinalIgnoreCase))
            return Find($"{queues}:{OptionCatalog.QueuePlaceholder}:{parts[3]}");
        return null;
    }

    private static IConfigurationProvider? SourceOf(IConfiguration configuration, string key)
    {
        if (configuration is not IConfigurationRoot root) return null;
        foreach (var provider in root.Providers.Reverse())
            if (provider.TryGet(key, out _) || provider.GetChildKeys([], key).Any())
                return provider;
        return null;
    }

    /// <summary>The highest source that sets <paramref name="key"/> or anything under it (lists are taken whole from one source).</summary>
    public static IConfigurationProvider? HighestSourceOf(IConfiguration configuration, string key) => SourceOf(configuration, key);
}
