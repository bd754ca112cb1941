namespace Conduit.Server.Security;

/// <summary>
/// The whole check a gateway makes on a <see cref="KeyedRequest"/>, in order: a request is there, the key authenticates
/// (<see cref="KeyStore.Authenticate"/>), and the identity has the role the request needs in its namespace
/// (<see cref="RequestNamespace.Of"/>, <see cref="Permissions.Check"/>). Thread-safe (the store is).
/// </summary>
internal sealed class RequestAuthorizer(KeyStore keys)
{
    /// <summary>The outcome: who asked (null when the key did not authenticate), the namespace, and the refusal to send back (null: forward the request).</summary>
    internal readonly record struct Decision(Identity? Who, string? Namespace, Rejected? Refusal)
    {
        public bool Allowed => Refusal is null;
    }

    public KeyStore Keys => keys;

    public Decision Authorize(KeyedRequest keyed)
    {
        if (keyed.Request is null) return new Decision(null, null, new Rejected(ErrorCode.InvalidArgument, "a keyed request without a request"));
        if (keys.Authenticate(keyed.ApiKey, out var who) is { } unauthenticated) return new Decision(null, null, unauthenticated);
        var ns = RequestNamespace.Of(keyed.Request);
        return new Decision(who, ns, Permissions.Check(who, keyed.Request, ns));
    }
}
