namespace Conduit.Server.Security;

/// <summary>
/// Who a request comes from, as the node established it (never as the client declared it): the key's id, its roles
/// and the namespaces it may use.
/// </summary>
/// <param name="Name">The key id; <c>anonymous</c> on a node without a keys file.</param>
/// <param name="Namespaces">The namespaces the roles apply in; null for every namespace (<c>"*"</c> in the keys file).</param>
public sealed record Identity(string Name, Role Roles, IReadOnlySet<string>? Namespaces)
{
    /// <summary>Everyone on a node without a keys file (auth off): every role in every namespace.</summary>
    public static Identity Anonymous { get; } = new("anonymous", Role.All, null);

    /// <summary>Whether the key's roles apply in <paramref name="namespace"/>.</summary>
    public bool CanUse(string @namespace) => Namespaces is null || Namespaces.Contains(@namespace);

    /// <summary>Whether the key's roles apply in every namespace.</summary>
    public bool IsInEveryNamespace => Namespaces is null;

    /// <summary>Whether the key has any of <paramref name="roles"/>.</summary>
    public bool HasAny(Role roles) => (Roles & roles) != Role.None;

    /// <summary>The namespaces as the keys file writes them: <c>*</c>, or the names comma-separated.</summary>
    public string NamespacesText => Namespaces is null ? "*" : string.Join(',', Namespaces.Order(StringComparer.Ordinal));

    public override string ToString() => $"{Name} ({RoleNames.Format(Roles)} in {NamespacesText})";
}
