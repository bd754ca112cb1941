using System.Security.Cryptography;
using System.Text;
using Conduit.Protocol.Security;
using Xunit;

namespace Conduit.Protocol.Tests;

public sealed class ApiKeyTests
{
    [Fact(DisplayName = "a generated key is id.secret with 43 base64url characters of secret, and parses back to its id")]
    public void Generate()
    {
        var key = ApiKey.Generate("billing-worker_1");
        Assert.StartsWith("billing-worker_1.", key);
        var secret = key["billing-worker_1.".Length..];
        Assert.Equal(43, secret.Length);
        Assert.All(secret, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_', $"'{c}' is not base64url"));
        Assert.True(ApiKey.TryParseId(key, out var id));
        Assert.Equal("billing-worker_1", id);
        Assert.Null(ApiKey.Problem(key));
    }

    [Fact(DisplayName = "two generated keys for the same id differ")]
    public void Random() => Assert.NotEqual(ApiKey.Generate("a"), ApiKey.Generate("a"));

    [Theory(DisplayName = "key ids follow [a-z0-9][a-z0-9_-]{0,63}; generating a key for a bad id is refused")]
    [InlineData("a", true)]
    [InlineData("0ps", true)]
    [InlineData("ops_team-2", true)]
    [InlineData("", false)]
    [InlineData("-x", false)]
    [InlineData("Alice", false)]
    [InlineData("a.b", false)]
    [InlineData("a\n", false)]
    [InlineData("a b", false)]
    public void Ids(string id, bool valid)
    {
        Assert.Equal(valid, ApiKey.IsValidId(id));
        if (valid) Assert.StartsWith(id + ".", ApiKey.Generate(id));
        else Assert.Contains("invalid key id", Assert.Throws<ArgumentException>(() => ApiKey.Generate(id)).Message);
    }

    [Fact(DisplayName = "an id of 64 characters is valid and one of 65 is not")]
    public void IdLength()
    {
        Assert.True(ApiKey.IsValidId(new string('a', 64)));
        Assert.False(ApiKey.IsValidId(new string('a', 65)));
    }

    [Theory(DisplayName = "malformed keys do not parse, and the problem never quotes the key")]
    [InlineData("")]
    [InlineData("nodot")]
    [InlineData(".AAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("alice.short")]
    [InlineData("alice.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("alice.AAAAAAAAAAAAAAAAAAAAAAAAAAAA AAA")]
    [InlineData("Alice.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("alice.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n")]
    public void Malformed(string key)
    {
        Assert.False(ApiKey.TryParseId(key, out var id));
        Assert.Null(id);
        var problem = ApiKey.Problem(key);
        Assert.NotNull(problem);
        if (key.Length > 0) Assert.DoesNotContain(key, problem);
    }

    [Fact(DisplayName = "a key longer than the limit is not parsed")]
    public void TooLong()
    {
        var key = "a." + new string('A', ApiKey.MaxLength);
        Assert.False(ApiKey.TryParseId(key, out _));
        Assert.Contains($"longer than {ApiKey.MaxLength}", ApiKey.Problem(key));
        Assert.False(ApiKey.TryParseId(null, out _));
    }

    [Fact(DisplayName = "the stored hash is the lowercase hex SHA-256 of the whole key text, and matches only that key")]
    public void Hash()
    {
        var key = ApiKey.Generate("alice");
        var expected = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key))).ToLowerInvariant();
        Assert.Equal(expected, ApiKey.Sha256Hex(key));
        Assert.Equal(ApiKey.HashHexLength, expected.Length);
        Assert.True(ApiKey.HashMatches(key, Convert.FromHexString(expected)));
        Assert.False(ApiKey.HashMatches(key + "x", Convert.FromHexString(expected)));
        Assert.False(ApiKey.HashMatches(key, Convert.FromHexString(expected)[..16]));
    }

    [Fact(DisplayName = "a key is described by its id only")]
    public void Describe()
    {
        var key = ApiKey.Generate("alice");
        Assert.Equal("alice.***", ApiKey.Describe(key));
        Assert.Equal("(none)", ApiKey.Describe(""));
        Assert.Equal("(malformed)", ApiKey.Describe("oops"));
    }

    [Fact(DisplayName = "a keys file entry for a key carries its id, hash, roles and namespaces")]
    public void Entry()
    {
        var key = ApiKey.Generate("alice");
        var entry = KeysFileEntry.For(key, ["producer", "producer", "worker"], ["billing"]);
        Assert.Equal("alice", entry.Id);
        Assert.Equal(ApiKey.Sha256Hex(key), entry.Sha256);
        Assert.Equal(["producer", "worker"], entry.Roles);
        Assert.Equal(["billing"], entry.Namespaces);
        Assert.Throws<ArgumentException>(() => KeysFileEntry.For("bad", ["worker"], ["default"]));
    }
}
