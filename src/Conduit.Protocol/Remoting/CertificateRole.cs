using System.Security.Cryptography.X509Certificates;

namespace Conduit.Protocol.Remoting;

/// <summary>What a Conduit certificate is for, written in its subject's organizational unit (OU).</summary>
public enum CertificateRole
{
    /// <summary>A node: <c>OU=conduit-node</c>; serverAuth and clientAuth.</summary>
    Node,

    /// <summary>A client or the CLI: <c>OU=conduit-client</c>; clientAuth only.</summary>
    Client,
}

/// <summary>Reads and names the <see cref="CertificateRole"/> of a certificate.</summary>
public static class CertificateRoles
{
    /// <summary>OU of node certificates.</summary>
    public const string NodeUnit = "conduit-node";

    /// <summary>OU of client certificates.</summary>
    public const string ClientUnit = "conduit-client";

    private const string OrganizationalUnitOid = "2.5.4.11";

    public static string UnitOf(CertificateRole role) => role switch
    {
        CertificateRole.Node => NodeUnit,
        CertificateRole.Client => ClientUnit,
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    /// <summary>
    /// The role the subject names, or null when it names none, or both (a certificate is one thing or the other).
    /// </summary>
    public static CertificateRole? RoleOf(X509Certificate2 certificate)
    {
        var units = certificate.SubjectName.EnumerateRelativeDistinguishedNames()
            .Where(rdn => !rdn.HasMultipleElements && rdn.GetSingleElementType().Value == OrganizationalUnitOid)
            .Select(rdn => rdn.GetSingleElementValue())
            .ToList();
        var node = units.Contains(NodeUnit, StringComparer.Ordinal);
        var client = units.Contains(ClientUnit, StringComparer.Ordinal);
        return (node, client) switch
        {
            (true, false) => CertificateRole.Node,
            (false, true) => CertificateRole.Client,
            _ => null,
        };
    }

    /// <summary>Whether <paramref name="policy"/> lets a peer with <paramref name="role"/> in.</summary>
    public static bool Admits(this PeerPolicy policy, CertificateRole? role) => (policy, role) switch
    {
        (_, null) => false,
        (PeerPolicy.NodesOnly, CertificateRole.Node) => true,
        (PeerPolicy.AnyCertifiedPeer, CertificateRole.Node or CertificateRole.Client) => true,
        _ => false,
    };
}
