using Conduit.Server.Hosting;
using Conduit.Server.Http;
using Conduit.Server.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Conduit.Server.Tests.Configuration;

/// <summary>The process host a node runs in (<see cref="NodeHost"/>), built but not started.</summary>
public sealed class NodeHostTests
{
    public static TheoryData<bool> WithAndWithoutHttp => [false, true];

    [Theory(DisplayName = "the host watches no settings file: none of its file sources reloads on change")]
    [MemberData(nameof(WithAndWithoutHttp))]
    public void WatchesNoFiles(bool http)
    {
        var settings = new NodeSettings
        {
            Storage = new StorageOptions(StorageKind.Sqlite, "Data Source=:memory:"),
            Http = http ? new NodeHttpOptions { Port = 0 } : null,
        };
        using var host = NodeHost.Build(settings);
        var configuration = (IConfigurationRoot)host.Services.GetRequiredService<IConfiguration>();
        var files = configuration.Providers.OfType<FileConfigurationProvider>().ToList();
        Assert.NotEmpty(files); // appsettings.json and its environment's, both optional
        Assert.All(files, f => Assert.False(f.Source.ReloadOnChange, $"{f.Source.Path} reloads on change"));
    }
}
