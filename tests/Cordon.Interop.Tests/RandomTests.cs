using Cordon.Interop;
using Xunit;

namespace Cordon.Interop.Tests;

/// <summary>getrandom(2), which replaces .NET's RandomNumberGenerator (OpenSSL on Linux) for DNS query ids.</summary>
public class RandomTests
{
    [Fact]
    public void A_large_buffer_is_filled_and_two_draws_differ()
    {
        var a = new byte[1 << 20];
        var b = new byte[1 << 20];
        Libc.RandomBytes(a);
        Libc.RandomBytes(b);
        Assert.False(a.AsSpan().SequenceEqual(b));
        // Every byte value turns up in a megabyte of random bytes; a buffer left partly unfilled would be zeros.
        Assert.Equal(256, a.Distinct().Count());
        Assert.True(a.AsSpan(a.Length - 4096).IndexOfAnyExcept((byte)0) >= 0);
    }
}
