using System.Text;
using Cordon.Profiles;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Cordon.Profiles.Tests;

/// <summary>cordon's own SHA-256 (the trust file's record; .NET's needs libssl): the standard's examples and .NET's own.</summary>
public class Sha256Tests
{
    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    public void The_standards_examples(string message, string digest) =>
        Assert.Equal(digest, Convert.ToHexStringLower(Sha256.Hash(Encoding.ASCII.GetBytes(message))));

    [Fact]
    public void A_million_times_a() =>
        Assert.Equal("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
            Convert.ToHexStringLower(Sha256.Hash(Enumerable.Repeat((byte)'a', 1_000_000).ToArray())));

    [Fact]
    public void Every_length_around_the_padding_boundaries_matches_dotnets()
    {
        var random = new Random(12);
        for (int length = 0; length <= 200; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(System.Security.Cryptography.SHA256.HashData(data), Sha256.Hash(data));
        }
    }

    [Property(MaxTest = 300)]
    public Property Any_bytes_match_dotnets() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
            System.Security.Cryptography.SHA256.HashData(bytes ?? []).AsSpan().SequenceEqual(Sha256.Hash(bytes ?? [])));
}
