using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;
using Conduit.Protocol.Security;

namespace Conduit.Server.Security;

/// <summary>
/// Reads a node's keys file, <c>{"keys": [{"id": …, "sha256": …, "roles": […], "namespaces": […]}, …]}</c>, and
/// refuses anything doubtful with a message that names the file and the entry: a duplicate id, a hash that is not 64 hex
/// characters, an unknown role, an invalid namespace name, a missing or unknown property (a typo such as
/// <c>"role"</c> must not silently drop a restriction). Comments and trailing commas are allowed. Pure: no I/O.
/// </summary>
internal static class KeysFile
{
    /// <summary>A key as the node keeps it: who it is and the SHA-256 of its text.</summary>
    internal sealed record StoredKey(Identity Identity, byte[] Sha256);

    private sealed record Document([property: JsonPropertyName("keys")] KeysFileEntry[]? Keys);

    private static readonly JsonSerializerOptions Options = new()
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = 8,
    };

    /// <summary>The keys in <paramref name="json"/>, by id; <paramref name="source"/> (the path) starts every error message.</summary>
    /// <exception cref="KeysFileException">The file is not a valid keys file.</exception>
    public static FrozenDictionary<string, StoredKey> Parse(string json, string source)
    {
        Document? document;
        try
        {
            document = JsonSerializer.Deserialize<Document>(json, Options);
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" (line {line + 1}{(e.Path is { } path ? $", at {path}" : "")})" : "";
            throw new KeysFileException($"{source}: not a valid keys file{where}: {SafeText.Escape(e.Message, 300)}");
        }
        if (document?.Keys is null)
            throw new KeysFileException($"{source}: not a valid keys file: expected {{\"keys\": [ … ]}}");

        var keys = new Dictionary<string, StoredKey>(StringComparer.Ordinal);
        for (var i = 0; i < document.Keys.Length; i++)
        {
            var entry = document.Keys[i];
            var where = $"{source}: keys[{i}]";
            if (entry is null) throw new KeysFileException($"{where}: null entry");
            if (!ApiKey.IsValidId(entry.Id))
                throw new KeysFileException($"{where}: {(entry.Id is null ? "\"id\" is missing" : ApiKey.DescribeId(entry.Id))}");
            where = $"{where} (id '{entry.Id}')";
            if (keys.ContainsKey(entry.Id)) throw new KeysFileException($"{where}: duplicate id: every key needs its own id");
            keys[entry.Id] = new StoredKey(new Identity(entry.Id, Roles(entry, where), Namespaces(entry, where)), Hash(entry, where));
        }
        return keys.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static byte[] Hash(KeysFileEntry entry, string where)
    {
        var hex = entry.Sha256;
        if (hex is null) throw new KeysFileException($"{where}: \"sha256\" is missing");
        if (hex.Length != ApiKey.HashHexLength || !hex.All(char.IsAsciiHexDigit))
            throw new KeysFileException(
                $"{where}: \"sha256\" must be {ApiKey.HashHexLength} hex characters (the SHA-256 of the whole key text; " +
                "`conduit keys hash KEY` prints it), not a string of " + hex.Length + " characters");
        return Convert.FromHexString(hex);
    }

    private static Role Roles(KeysFileEntry entry, string where)
    {
        if (entry.Roles is null || entry.Roles.Length == 0)
            throw new KeysFileException($"{where}: \"roles\" is missing or empty: give one or more of {string.Join(", ", KeysFileEntry.RoleNames)}");
        var roles = Role.None;
        foreach (var name in entry.Roles)
        {
            if (!RoleNames.TryParse(name, out var role))
                throw new KeysFileException($"{where}: unknown role '{SafeText.Escape(name, 40)}': use {string.Join(", ", KeysFileEntry.RoleNames)}");
            roles |= role;
        }
        return roles;
    }

    private static FrozenSet<string>? Namespaces(KeysFileEntry entry, string where)
    {
        if (entry.Namespaces is null || entry.Namespaces.Length == 0)
            throw new KeysFileException($"{where}: \"namespaces\" is missing or empty: list namespace names, or [\"*\"] for every namespace");
        if (entry.Namespaces.Contains(KeysFileEntry.AllNamespaces))
        {
            if (entry.Namespaces.Any(n => n != KeysFileEntry.AllNamespaces))
                throw new KeysFileException($"{where}: \"*\" already means every namespace: list no other names with it");
            return null;
        }
        foreach (var name in entry.Namespaces)
        {
            if (!QueueName.IsValid(name))
                throw new KeysFileException(
                    $"{where}: invalid namespace name '{SafeText.Escape(name, 140)}': use 1-{QueueName.MaxLength} characters from a-z, 0-9, " +
                    "'.', '_', '-', starting with a letter or digit, or \"*\" for every namespace");
        }
        return entry.Namespaces.ToFrozenSet(StringComparer.Ordinal);
    }
}

/// <summary>A keys file that cannot be used; the message names the file, the entry and the fix (never a secret: the file holds none).</summary>
public sealed class KeysFileException(string message) : Exception(message);
