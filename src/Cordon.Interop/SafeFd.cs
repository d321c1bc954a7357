using Microsoft.Win32.SafeHandles;

namespace Cordon.Interop;

/// <summary>An owned file descriptor; closed exactly once.</summary>
public sealed class SafeFd : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeFd()
        : base(ownsHandle: true)
    {
    }

    public SafeFd(int fd, bool ownsHandle = true)
        : base(ownsHandle)
    {
        SetHandle(fd);
    }

    /// <summary>The descriptor number; valid only while this handle is alive.</summary>
    public int Fd => (int)handle;

    // fd 0 is a valid descriptor, unlike the "zero or minus one" the base class assumes.
    public override bool IsInvalid => handle < 0;

    /// <summary>Wraps a raw result: a negative value becomes an exception naming the call.</summary>
    public static SafeFd FromResult(int fd, string call) => new(Io.Check(fd, call));

    protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0;
}
