using System.Text;

namespace Cordon.Supervisor;

/// <summary>
/// Paths as the kernel sees them: bytes, not text. Conversions to text happen only for rules and messages.
/// </summary>
internal static class PathBytes
{
    public static string Text(ReadOnlySpan<byte> path) => Encoding.UTF8.GetString(path);

    public static byte[] Bytes(string path) => Encoding.UTF8.GetBytes(path);

    /// <summary>NUL-terminated copy for the C library.</summary>
    public static byte[] Z(ReadOnlySpan<byte> path)
    {
        var z = new byte[path.Length + 1];
        path.CopyTo(z);
        return z;
    }

    public static byte[] Z(string path) => Encoding.UTF8.GetBytes(path + "\0");

    /// <summary>
    /// Splits "a/b/c//" into the parent "a/b" and the last component "c" (trailing slashes dropped from the name,
    /// reported separately because they change the meaning: "file/" must name a directory).
    /// The parent of "c" is "." and of "/c" is "/".
    /// </summary>
    public static (byte[] Parent, byte[] Name, bool TrailingSlash) Split(ReadOnlySpan<byte> path)
    {
        int end = path.Length;
        while (end > 1 && path[end - 1] == (byte)'/')
        {
            end--;
        }

        bool trailing = end != path.Length;
        var trimmed = path[..end];
        int slash = trimmed.LastIndexOf((byte)'/');
        if (slash < 0)
        {
            return ("."u8.ToArray(), trimmed.ToArray(), trailing);
        }

        var parent = slash == 0 ? "/"u8 : trimmed[..slash];
        return (parent.ToArray(), trimmed[(slash + 1)..].ToArray(), trailing);
    }

    /// <summary>"parent" + "/" + "name" without doubling the slash of "/".</summary>
    public static string Join(string parent, ReadOnlySpan<byte> name) =>
        parent == "/" ? "/" + Text(name) : parent + "/" + Text(name);
}
