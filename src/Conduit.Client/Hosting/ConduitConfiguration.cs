using Conduit.Client.Worker;
using Microsoft.Extensions.Configuration;

namespace Conduit.Client.Hosting;

/// <summary>
/// <see cref="ConduitClientOptions"/> and <see cref="ConduitWorkerOptions"/> from a configuration section (e.g.
/// <c>Conduit:Client</c>, <c>Conduit:Workers:emails</c> of <c>appsettings.json</c>, or <c>CONDUIT__CLIENT__SERVERS</c>):
/// property names are the keys, durations are <c>hh:mm:ss</c>, <c>Servers</c> is an array or a comma-separated list and
/// replaces the default whole. A key that names no option, a value that does not parse or an option that fails its
/// check is an <see cref="ArgumentException"/> naming the key (<c>Conduit:Client:RequestTimeout</c>), at registration,
/// not when the first request is sent. The API key and TLS password are never quoted.
/// </summary>
public static class ConduitConfiguration
{
    public static ConduitClientOptions ClientOptions(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var options = new ConduitClientOptions();
        // Servers are read apart: the binder would append them to the default, and refuses a comma-separated value.
        Bind(Without(section, nameof(ConduitClientOptions.Servers)), options, PathOf(section));
        if (Servers(section) is { } servers) options.Servers = servers;
        return Checked(section, options, () => options.Validate());
    }

    public static ConduitWorkerOptions WorkerOptions(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var options = new ConduitWorkerOptions();
        Bind(section, options, PathOf(section));
        return Checked(section, options, options.Validate);
    }

    /// <summary><paramref name="section"/>'s values but those under <paramref name="key"/>.</summary>
    private static IConfiguration Without(IConfiguration section, string key) =>
        new ConfigurationBuilder().AddInMemoryCollection(section.AsEnumerable(makePathsRelative: true)
            .Where(kv => kv.Value is not null && !kv.Key.Equals(key, StringComparison.OrdinalIgnoreCase)
                         && !kv.Key.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase))).Build();

    private static void Bind(IConfiguration section, object options, string path)
    {
        try
        {
            section.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            // The binder's message names the key and the value; the secrets are strings, which never fail to bind.
            throw new ArgumentException($"{path}: {e.Message}", path, e);
        }
    }

    private static T Checked<T>(IConfiguration section, T options, Action validate)
    {
        try
        {
            validate();
            return options;
        }
        catch (ArgumentException e) when (e.ParamName is not null)
        {
            var key = $"{PathOf(section)}:{e.ParamName}";
            throw new ArgumentException($"{key} {e.Message.Split(" (Parameter", 2)[0]}", key, e);
        }
    }

    /// <summary>The servers, when the section gives them: an array (<c>Servers:0</c>) or one comma-separated value.</summary>
    private static List<string>? Servers(IConfiguration section)
    {
        var servers = section.GetSection(nameof(ConduitClientOptions.Servers));
        if (!string.IsNullOrWhiteSpace(servers.Value))
            return servers.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        var items = servers.GetChildren().Select(c => c.Value?.Trim()).Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).ToList();
        return items.Count > 0 ? items : null;
    }

    private static string PathOf(IConfiguration section) => section is IConfigurationSection s ? s.Path : "(configuration)";
}
