using Conduit.Protocol.Serialization;
using MemoryPack;
using Xunit;

namespace Conduit.Protocol.Tests;

/// <summary>Bytes written by hand, as an attacker would, through the protocol serializer.</summary>
public sealed class HostileBytesTests
{
    [Theory(DisplayName = "a message that claims a huge collection is refused without allocating it")]
    [InlineData(int.MaxValue)]
    [InlineData(100_000_000)]
    public void HugeLengthPrefix(int claimed)
    {
        // EnqueueBatch("q", [one task]) serialized, then its array length patched to `claimed`.
        var bytes = MemoryPackSerializer.Serialize<IPartitionRequest>(new EnqueueBatch("q", [new TaskSpec([1])]));
        var honest = BitConverter.GetBytes(1);
        var at = IndexOf(bytes, honest, from: 6);
        Assert.True(at > 0, "the array length is in the bytes");
        BitConverter.GetBytes(claimed).CopyTo(bytes, at);

        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.ThrowsAny<Exception>(() => MemoryPackSerializer.Deserialize(typeof(EnqueueBatch), bytes));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "no allocation sized by the claim");
    }

    [Fact(DisplayName = "the protocol serializer refuses a manifest it does not know")]
    public void UnknownManifest()
    {
        var serializer = new ProtocolSerializer(null!);
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([0], "System.IO.FileInfo, System.IO.FileSystem"));
    }

    private static int IndexOf(byte[] haystack, byte[] needle, int from)
    {
        for (var i = from; i <= haystack.Length - needle.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        return -1;
    }
}
