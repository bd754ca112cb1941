using System.Text.Json.Serialization;

namespace Conduit.Protocol.Security;

/// <summary>
/// One entry of a node's keys file (<c>{"keys": [entry, …]}</c>): what <c>conduit keys new</c> prints and the node's
/// key store reads. The file format is the contract between the two, so it lives here, next to <see cref="ApiKey"/>.
/// </summary>
/// <param name="Id">The key's id (the part before the dot); unique in the file.</param>
/// <param name="Sha256">Lowercase hex of the SHA-256 of the whole key text (<see cref="ApiKey.Sha256Hex"/>).</param>
/// <param name="Roles">Any of <see cref="RoleNames"/>.</param>
/// <param name="Namespaces">Namespace names, or <c>["*"]</c> for every namespace.</param>
public sealed record KeysFileEntry(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("roles")] string[] Roles,
    [property: JsonPropertyName("namespaces")] string[] Namespaces)
{
    /// <summary>The role names a keys file may use.</summary>
    public static readonly IReadOnlyList<string> RoleNames = ["producer", "worker", "operator"];

    /// <summary>The namespace entry that stands for every namespace.</summary>
    public const string AllNamespaces = "*";

    /// <summary>The entry for an existing <paramref name="key"/>.</summary>
    public static KeysFileEntry For(string key, IEnumerable<string> roles, IEnumerable<string> namespaces) =>
        ApiKey.TryParseId(key, out var id)
            ? new KeysFileEntry(id, ApiKey.Sha256Hex(key), [.. roles.Distinct()], [.. namespaces.Distinct()])
            : throw new ArgumentException(ApiKey.Problem(key), nameof(key));
}
