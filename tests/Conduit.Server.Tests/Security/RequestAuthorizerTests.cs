using Conduit.Protocol;
using Conduit.Protocol.Security;
using Conduit.Server.Security;
using Conduit.Testing;
using Xunit;

namespace Conduit.Server.Tests.Security;

public sealed class RequestAuthorizerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("conduit-keys-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private KeyStore Store(params KeysFileEntry[] entries)
    {
        var path = Path.Combine(_dir, "keys.json");
        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(new { keys = entries }));
        return KeyStore.Load(path, reloadInterval: Timeout.InfiniteTimeSpan);
    }

    [Fact(DisplayName = "a keyed request is forwarded when its key authenticates and has the role in the request's namespace")]
    public void Allowed()
    {
        var worker = ApiKey.Generate("worker");
        using var store = Store(KeysFileEntry.For(worker, ["worker"], ["billing"]));
        var decision = new RequestAuthorizer(store).Authorize(new KeyedRequest(worker, new Heartbeat(ClientRequests.LeaseIn("billing"))));
        Assert.True(decision.Allowed);
        Assert.Equal("worker", decision.Who?.Name);
        Assert.Equal("billing", decision.Namespace);
    }

    [Fact(DisplayName = "a keyed request is refused with Unauthorized for a wrong key, a missing role or another namespace, and InvalidArgument without a request")]
    public void Refused()
    {
        var worker = ApiKey.Generate("worker");
        using var store = Store(KeysFileEntry.For(worker, ["worker"], ["billing"]));
        var authorizer = new RequestAuthorizer(store);

        var wrongKey = authorizer.Authorize(new KeyedRequest(ApiKey.Generate("worker"), new Heartbeat(ClientRequests.LeaseIn("billing"))));
        Assert.Equal(ErrorCode.Unauthorized, wrongKey.Refusal?.Code);
        Assert.Null(wrongKey.Who);

        var noRole = authorizer.Authorize(new KeyedRequest(worker, new PurgeQueue("q")));
        Assert.Equal(ErrorCode.Unauthorized, noRole.Refusal?.Code);
        Assert.Equal("worker", noRole.Who?.Name);

        var elsewhere = authorizer.Authorize(new KeyedRequest(worker, new Heartbeat(ClientRequests.LeaseIn("default"))));
        Assert.Equal(ErrorCode.Unauthorized, elsewhere.Refusal?.Code);
        Assert.Contains("namespace 'default'", elsewhere.Refusal?.Message);

        Assert.Equal(ErrorCode.InvalidArgument, authorizer.Authorize(new KeyedRequest(worker, null!)).Refusal?.Code);
    }

    [Fact(DisplayName = "on an open store (no keys file) every request is allowed as the anonymous identity, with or without a key")]
    public void Open()
    {
        using var store = KeyStore.Open();
        var authorizer = new RequestAuthorizer(store);
        foreach (var request in ClientRequests.Samples().Values)
        {
            var decision = authorizer.Authorize(new KeyedRequest("", request));
            Assert.True(decision.Allowed, $"{request.GetType().Name}: {decision.Refusal}");
            Assert.Same(Identity.Anonymous, decision.Who);
        }
    }
}
