using System.Text.RegularExpressions;
using Conduit.Server.Configuration;
using Xunit;

namespace Conduit.Server.Tests.Configuration;

/// <summary>docs/configuration.md and the options classes say the same thing: every option documented, nothing documented that is not one.</summary>
public sealed partial class ConfigurationDocsTests
{
    private static string Docs()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "docs", "configuration.md")))
                return File.ReadAllText(Path.Combine(dir.FullName, "docs", "configuration.md"));
        throw new FileNotFoundException("docs/configuration.md above " + AppContext.BaseDirectory);
    }

    [Fact(DisplayName = "docs/configuration.md names every option's key, environment variable, flag and deprecated name")]
    public void EveryOptionDocumented()
    {
        var docs = Docs();
        var missing = new List<string>();
        foreach (var option in OptionCatalog.Options)
        {
            if (!docs.Contains($"`{option.Key}`", StringComparison.Ordinal)) missing.Add(option.Key);
            if (!docs.Contains($"`{option.EnvironmentName}`", StringComparison.Ordinal)) missing.Add(option.EnvironmentName);
            if (option.Flag is { } flag && !docs.Contains($"`{flag}", StringComparison.Ordinal)) missing.Add(flag);
            if (option.DeprecatedEnvironmentName is { } old && !docs.Contains($"`{old}`", StringComparison.Ordinal)) missing.Add(old);
        }
        Assert.Empty(missing);
    }

    [Fact(DisplayName = "every CONDUIT__ variable and Conduit: key that docs/configuration.md names is an option")]
    public void NothingDocumentedThatIsNot()
    {
        var docs = Docs();
        var names = OptionCatalog.Options.Select(o => o.EnvironmentName.ToUpperInvariant()).ToHashSet();
        var keys = OptionCatalog.Options.Select(o => o.Key.ToUpperInvariant()).ToHashSet();
        var unknown = new List<string>();
        foreach (Match m in EnvironmentName().Matches(docs))
        {
            var parts = m.Value.ToUpperInvariant().Split("__");
            if (parts.Length == 4 && parts[1] == "QUEUES") parts[2] = OptionCatalog.QueuePlaceholder.ToUpperInvariant();
            if (!names.Contains(string.Join("__", parts))) unknown.Add(m.Value);
        }
        foreach (Match m in Key().Matches(docs))
        {
            var parts = m.Value.ToUpperInvariant().Split(':');
            if (parts.Length == 4 && parts[1] == "QUEUES") parts[2] = OptionCatalog.QueuePlaceholder.ToUpperInvariant();
            var key = string.Join(":", parts);
            // A section (Conduit:Partition) is the start of option keys.
            if (!keys.Contains(key) && !keys.Any(k => k.StartsWith(key + ":", StringComparison.Ordinal))) unknown.Add(m.Value);
        }
        Assert.Empty(unknown);
    }

    [GeneratedRegex(@"CONDUIT__[A-Za-z0-9_<>/.-]*[A-Za-z0-9>]")]
    private static partial Regex EnvironmentName();

    [GeneratedRegex(@"(?<=`)Conduit:[A-Za-z0-9:<>/.-]*[A-Za-z0-9>](?=`)")]
    private static partial Regex Key();
}
