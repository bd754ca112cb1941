using Xunit;

namespace Conduit.Protocol.Tests;

public sealed class SafeTextTests
{
    [Fact(DisplayName = "plain text comes back as it is, the same string; null becomes empty")]
    public void PlainText()
    {
        const string text = "default/emails#0:21:1:1:8546512737772698221 héllo 日本 😀 \\x1b";
        Assert.Same(text, SafeText.Escape(text, int.MaxValue));
        Assert.Equal("", SafeText.Escape(null));
        Assert.Equal("", SafeText.Escape(""));
    }

    [Theory(DisplayName = "every control character becomes a visible escape: C0, DEL, C1, line separators, bidi overrides")]
    [InlineData("\u001b[31mred", "\\x1b[31mred")]
    [InlineData("\u001b]52;c;aGk=\u0007", "\\x1b]52;c;aGk=\\x07")]
    [InlineData("a\r\nb\tc\0", "a\\x0d\\x0ab\\x09c\\x00")]
    [InlineData("\u007f\u0080\u009b\u009f\u00a0", "\\x7f\\x80\\x9b\\x9f\u00a0")]
    [InlineData("x\u2028y\u2029", "x\\u2028y\\u2029")]
    [InlineData("a\u200eb\u200fc\u061cd\u200be\ufeff", "a\\u200eb\\u200fc\\u061cd\\u200be\\ufeff")]
    [InlineData("\u202a\u202b\u202c\u202d\u202e", "\\u202a\\u202b\\u202c\\u202d\\u202e")]
    [InlineData("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069")]
    public void Escapes(string text, string expected) => Assert.Equal(expected, SafeText.Escape(text, int.MaxValue));

    [Fact(DisplayName = "the result holds no control character, whatever the input")]
    public void NoControlLeft()
    {
        var all = new string(Enumerable.Range(0, 0x3000).Select(i => (char)i).Where(c => !char.IsSurrogate(c)).ToArray());
        var escaped = SafeText.Escape(all, int.MaxValue);
        Assert.DoesNotContain(escaped, SafeText.IsControl);
        Assert.All(escaped, c => Assert.False(c < 0x20 || c is >= '\u007f' and <= '\u009f', $"U+{(int)c:X4} left"));
    }

    [Fact(DisplayName = "text longer than maxLength is cut there and ends in an ellipsis; text of exactly maxLength is not cut")]
    public void Cut()
    {
        Assert.Equal("abc…", SafeText.Escape("abcdef", 3));
        Assert.Equal("abc", SafeText.Escape("abc", 3));
        Assert.Equal(new string('x', 200) + "…", SafeText.Escape(new string('x', 201)));
        Assert.Equal("\\x1bb…", SafeText.Escape("\u001bbcd", 2)); // cut counts input characters, then escapes
    }

    [Fact(DisplayName = "a cut never leaves half of a surrogate pair")]
    public void CutKeepsSurrogatePairsWhole()
    {
        Assert.Equal("a…", SafeText.Escape("a😀b", 2));
        Assert.Equal("a😀…", SafeText.Escape("a😀b", 3));
    }
}
