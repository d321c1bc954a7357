using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Cordon.Policy;

/// <summary>A problem with what a user wrote (a flag or a profile value): one line that names it.</summary>
public sealed class PolicyException : Exception
{
    public PolicyException(string message)
        : base(message)
    {
    }

    public PolicyException()
        : this("invalid policy")
    {
    }

    public PolicyException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>
/// What a rule holds. <see cref="Specificity"/> orders matching rules: the most specific one decides, and at equal
/// specificity a deny wins (Deno's model, extended with "most specific" so that `--deny-read=~ --allow-read=~/p`
/// means what it says).
/// </summary>
public abstract record Descriptor
{
    /// <summary>Whether this descriptor covers the request. Only called for requests of the rule's kind.</summary>
    public abstract bool Matches(Request request);

    /// <summary>Higher is more specific.</summary>
    public abstract int Specificity { get; }

    /// <summary>The text a user would write for it.</summary>
    public abstract string Text { get; }

    /// <summary>
    /// How much of the tree at <paramref name="folder"/> (the folder and every path below it) this descriptor may
    /// cover. Must never understate: <see cref="Reach.None"/> and <see cref="Reach.All"/> are promises the LSM engine
    /// relies on to decide a whole folder in the kernel. The default, <see cref="Reach.Some"/>, promises nothing.
    /// </summary>
    public virtual Reach Within(string folder) => Reach.Some;

    /// <summary>The folder that holds <paramref name="path"/> (canonical): "/" for "/x", null for "/" itself.</summary>
    public static string? Parent(string path)
    {
        if (path == "/")
        {
            return null;
        }

        int slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="folder"/> or lies below it (both canonical).</summary>
    public static bool InTree(string folder, string path) =>
        folder == "/" ? path.StartsWith('/') : path == folder || (path.Length > folder.Length && path[folder.Length] == '/' && path.StartsWith(folder, StringComparison.Ordinal));
}

/// <summary>What part of a folder's tree a descriptor covers (see <see cref="Descriptor.Within"/>).</summary>
public enum Reach
{
    /// <summary>No path in it.</summary>
    None,

    /// <summary>Perhaps some paths (or all: not known).</summary>
    Some,

    /// <summary>Every path in it.</summary>
    All,
}

/// <summary>
/// Everything of a kind (`--allow-read` with no value, `-A`, "A" at the prompt), except connecting or sending to a
/// Unix socket by path or abstract name: behind those sit local daemons that act outside the sandbox for whoever
/// connects (docker, an ssh-agent, the session bus and `systemd-run --user`), so only a `unix:` rule naming the
/// socket reaches one. "Every network destination" means the network, not them.
/// </summary>
public sealed record AnyDescriptor : Descriptor
{
    public override bool Matches(Request request) =>
        request.Kind != AccessKind.Net || request.Net?.UnixPath is null || request.Operation is Operation.Bind or Operation.Listen;

    public override int Specificity => 0;

    public override string Text => "";

    public override Reach Within(string folder) => Reach.All;
}

/// <summary>An absolute path and, unless it is a glob, everything below it.</summary>
public sealed record PathDescriptor : Descriptor
{
    private readonly Glob? glob;

    public PathDescriptor(string path)
    {
        if (!path.StartsWith('/'))
        {
            throw new PolicyException($"\"{path}\" is not an absolute path");
        }

        Path = path.Length > 1 ? path.TrimEnd('/') : path;
        if (Glob.IsPattern(Path))
        {
            glob = new Glob(Path);
        }
    }

    public string Path { get; }

    /// <summary>Whether <see cref="Path"/> is a glob pattern rather than a path.</summary>
    public bool IsGlob => glob is not null;

    public override bool Matches(Request request) => Covers(request.Resource);

    /// <summary>True when <paramref name="path"/> is this path, lies below it, or matches the glob.</summary>
    public bool Covers(string path)
    {
        if (glob is not null)
        {
            return glob.Matches(path) || glob.MatchesPrefixOf(path);
        }

        if (Path == "/")
        {
            return path.StartsWith('/');
        }

        return path.Length == Path.Length
            ? path == Path
            : path.Length > Path.Length && path[Path.Length] == '/' && path.StartsWith(Path, StringComparison.Ordinal);
    }

    public override Reach Within(string folder)
    {
        if (glob is null)
        {
            return InTree(Path, folder) ? Reach.All : InTree(folder, Path) ? Reach.Some : Reach.None;
        }

        // Whatever a glob matches starts with its literal leading folders.
        var literal = glob.LiteralPrefix;
        return InTree(literal, folder) || InTree(folder, literal) ? Reach.Some : Reach.None;
    }

    // Deeper paths are more specific; a glob ranks just below the literal path of the same depth.
    public override int Specificity => (Path == "/" ? 1 : (Path.Count(c => c == '/') + 1)) * 4 - (glob is null ? 0 : 2);

    public override string Text => Path;
}

/// <summary>A program, by canonical path.</summary>
public sealed record ProgramDescriptor(string Path) : Descriptor
{
    public override bool Matches(Request request) => request.Resource == Path;

    public override int Specificity => 100;

    public override Reach Within(string folder) => InTree(folder, Path) ? Reach.Some : Reach.None;

    public override string Text => Path;
}

/// <summary>An environment variable name, or a prefix ending in "*".</summary>
public sealed record EnvDescriptor(string Name) : Descriptor
{
    public bool Covers(string name) =>
        Name.EndsWith('*') ? name.StartsWith(Name[..^1], StringComparison.Ordinal) : name == Name;

    public override bool Matches(Request request) => Covers(request.Resource);

    public override int Specificity => Name.EndsWith('*') ? Name.Length : 1000;

    public override string Text => Name;
}

/// <summary>
/// A network destination: an IP address, a CIDR block, a host name (matched against the names this sandbox resolved
/// to the address), `*.domain`, a Unix socket (`unix:/path` covers that path and below; `unix:@name` an abstract
/// name), or `dns`: port 53 of the DNS servers the machine's resolver uses, whatever their addresses on this network
/// (a laptop's resolver changes with the network; a profile that names it by address would not). An optional port
/// narrows the others.
/// </summary>
public sealed record NetDescriptor : Descriptor
{
    /// <summary>The word for the machine's DNS servers.</summary>
    public const string SystemDns = "dns";

    private NetDescriptor(string text, IPAddress? network, int prefix, string? host, string? unix, int? port, bool dns = false)
    {
        Text = text;
        Network = network;
        Prefix = prefix;
        Host = host;
        Unix = unix;
        Port = port;
        Dns = dns;
    }

    /// <summary>The machine's DNS servers (<see cref="SystemDns"/>).</summary>
    public bool Dns { get; }

    public IPAddress? Network { get; }

    public int Prefix { get; }

    public string? Host { get; }

    public string? Unix { get; }

    public int? Port { get; }

    public override string Text { get; }

    /// <summary>Parses HOST[:PORT], [IPV6]:PORT, CIDR[:PORT], *.domain[:PORT], localhost, dns, unix:/path, unix:@name.</summary>
    public static IReadOnlyList<NetDescriptor> Parse(string text)
    {
        if (text == SystemDns)
        {
            return [new NetDescriptor(text, null, 0, null, null, 53, dns: true)];
        }

        if (text.StartsWith(SystemDns + ":", StringComparison.Ordinal))
        {
            throw new PolicyException($"\"{text}\": dns means port 53 of the system's DNS servers; write it alone");
        }

        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = text[5..];
            if (path.Length == 0 || (path[0] != '/' && path[0] != '@'))
            {
                throw new PolicyException($"\"{text}\": a Unix socket is unix:/absolute/path or unix:@abstract-name");
            }

            return [new NetDescriptor(text, null, 0, null, path.Length > 1 && path[0] == '/' ? path.TrimEnd('/') : path, null)];
        }

        var (host, port) = SplitPort(text);
        if (host == "localhost")
        {
            return
            [
                new NetDescriptor(text, IPAddress.Parse("127.0.0.0"), 8, null, null, port),
                new NetDescriptor(text, IPAddress.IPv6Loopback, 128, null, null, port),
            ];
        }

        int slash = host.IndexOf('/');
        if (slash >= 0)
        {
            CheckIPv4(host[..slash], text);
            if (!IPAddress.TryParse(host[..slash], out var net) || !int.TryParse(host[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int bits)
                || bits > (net.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
            {
                throw new PolicyException($"\"{text}\" is not a valid CIDR block");
            }

            return [new NetDescriptor(text, net, bits, null, null, port)];
        }

        CheckIPv4(host, text);
        if (IPAddress.TryParse(host, out var ip))
        {
            return [new NetDescriptor(text, ip, ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128, null, null, port)];
        }

        if (!IsHostName(host))
        {
            throw new PolicyException($"\"{text}\" is not a host name, address, CIDR block or unix: socket");
        }

        return [new NetDescriptor(text, null, 0, host.ToLowerInvariant(), null, port)];
    }

    private static (string Host, int? Port) SplitPort(string text)
    {
        string host = text;
        string? port = null;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 0)
            {
                throw new PolicyException($"\"{text}\": missing ']'");
            }

            host = text[1..close];
            if (close + 1 < text.Length)
            {
                if (text[close + 1] != ':')
                {
                    throw new PolicyException($"\"{text}\": expected ':' after ']'");
                }

                port = text[(close + 2)..];
            }
        }
        else if (text.Count(c => c == ':') == 1)
        {
            int colon = text.IndexOf(':');
            host = text[..colon];
            port = text[(colon + 1)..];
        }

        if (host.Length == 0)
        {
            throw new PolicyException($"\"{text}\" has no host");
        }

        if (port is null)
        {
            return (host, null);
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p < 1 || p > 65535)
        {
            throw new PolicyException($"\"{text}\" has a port out of range 1-65535");
        }

        return (host, p);
    }

    /// <summary>
    /// An address without ':' that looks numeric must be four decimal numbers 0-255. IPAddress.TryParse takes the
    /// inet_aton forms ("10.1" is 10.0.0.1, "0x7f.1" and "010.0.0.1" are hex and octal), and a name of digits was
    /// taken as a host name: "300.0.0.1" became a rule that silently matched nothing.
    /// </summary>
    private static void CheckIPv4(string host, string text)
    {
        if (host.Contains(':', StringComparison.Ordinal))
        {
            return;
        }

        var labels = host.Split('.');
        bool numeric = labels[^1].Length > 0 && labels[^1].All(char.IsAsciiDigit); // RFC 1123: a top label is never all digits
        if (!numeric && !IPAddress.TryParse(host, out _))
        {
            return;
        }

        bool dottedQuad = labels.Length == 4 && labels.All(l =>
            l.Length is > 0 and <= 3 && l.All(char.IsAsciiDigit) && (l.Length == 1 || l[0] != '0') && int.Parse(l, CultureInfo.InvariantCulture) <= 255);
        if (!dottedQuad)
        {
            throw new PolicyException($"\"{text}\" is not a valid IPv4 address (four numbers 0-255, as in 192.0.2.1)");
        }
    }

    private static bool IsHostName(string host)
    {
        var name = host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host;
        return name.Length is > 0 and <= 253 && name.Split('.').All(label =>
            label.Length is > 0 and <= 63 && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') && label[0] != '-');
    }

    public override bool Matches(Request request)
    {
        var t = request.Net;
        if (t is null)
        {
            return false;
        }

        if (Unix is not null)
        {
            if (t.UnixPath is null)
            {
                return false;
            }

            return Unix.StartsWith('@')
                ? t.UnixPath == Unix
                : t.UnixPath == Unix || (t.UnixPath.StartsWith(Unix, StringComparison.Ordinal) && t.UnixPath.Length > Unix.Length && t.UnixPath[Unix.Length] == '/');
        }

        if (Port is int port && t.Port != port)
        {
            return false;
        }

        if (Dns)
        {
            return t.SystemResolver;
        }

        if (Network is not null)
        {
            return t.Address is not null && InNetwork(t.Address, Network, Prefix);
        }

        // A name matches only the names this sandbox resolved to the address: a grant for one name never covers an
        // address reached under another name.
        return Host is not null && t.Names.Any(n => HostMatches(Host, n));
    }

    private static bool HostMatches(string pattern, string name)
    {
        name = name.TrimEnd('.').ToLowerInvariant();
        return pattern.StartsWith("*.", StringComparison.Ordinal)
            ? name.EndsWith(pattern[1..], StringComparison.Ordinal) && name.Length > pattern.Length - 1
            : name == pattern;
    }

    public static bool InNetwork(IPAddress address, IPAddress network, int prefix)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != network.AddressFamily)
        {
            return false;
        }

        var a = address.GetAddressBytes();
        var n = network.GetAddressBytes();
        int full = prefix / 8;
        for (int i = 0; i < full; i++)
        {
            if (a[i] != n[i])
            {
                return false;
            }
        }

        int rest = prefix % 8;
        if (rest == 0)
        {
            return true;
        }

        int mask = 0xff << (8 - rest) & 0xff;
        return (a[full] & mask) == (n[full] & mask);
    }

    // exact address+port > address > name+port > name > wildcard > CIDR by prefix length.
    public override int Specificity =>
        Dns ? 1000 + 200 + 32 // as an exact address and port: the servers are exact addresses
        : (Unix is not null ? 2000 + Unix.Length
        : Network is not null ? 200 + Prefix
        : Host is not null && !Host.StartsWith('*') ? 600
        : 400 + (Host?.Length ?? 0)) + (Port is null ? 0 : 1000);
}

/// <summary>
/// Path globs: `*` matches within one component, `**` any number of components (including none), `?` one character,
/// `[abc]`, `[a-z]` and `[!abc]` one character of (or not of) a set, as in the shell. A path is a glob only when it
/// has a `*` or `?`: elsewhere brackets are part of a name (Next.js's `app/[slug]`). Inside a glob, `[[]`, `[*]` and
/// `[?]` name those characters themselves.
/// </summary>
public sealed class Glob
{
    private readonly string[] parts;

    public Glob(string pattern)
    {
        if (pattern.Contains("***", StringComparison.Ordinal))
        {
            throw new PolicyException($"\"{pattern}\": '***' is not a glob; use '**' for any depth");
        }

        Pattern = pattern;
        parts = pattern.Split('/');
        foreach (var part in parts)
        {
            for (int i = 0; i < part.Length; i++)
            {
                if (part[i] == '[')
                {
                    // A '[' that opens nothing would be matched literally by some shells and as an error by others:
                    // cordon says so rather than guess (a deny rule that silently matches nothing is worse).
                    i = ClassEnd(part, i);
                    if (i < 0)
                    {
                        throw new PolicyException($"\"{pattern}\": '[' without a closing ']' (write [[] for a literal '[')");
                    }
                }
            }
        }
    }

    public string Pattern { get; }

    public static bool IsPattern(string path) => path.AsSpan().IndexOfAny('*', '?') >= 0;

    /// <summary>Writes <paramref name="path"/> so that, inside a glob, it matches only itself.</summary>
    public static string Escape(string path) =>
        path.AsSpan().IndexOfAny('*', '?', '[') < 0 ? path : path.Replace("[", "[[]", StringComparison.Ordinal).Replace("*", "[*]", StringComparison.Ordinal).Replace("?", "[?]", StringComparison.Ordinal);

    private static bool SegmentIsPattern(string segment) => segment.AsSpan().IndexOfAny('*', '?', '[') >= 0;

    /// <summary>The index of the ']' closing the class opened at <paramref name="open"/>, or -1.</summary>
    private static int ClassEnd(string pattern, int open)
    {
        int i = open + 1;
        if (i < pattern.Length && pattern[i] is '!' or '^')
        {
            i++;
        }

        if (i < pattern.Length && pattern[i] == ']')
        {
            i++; // a ']' first in the set is a member
        }

        int close = pattern.IndexOf(']', i);
        return close;
    }

    private static bool InClass(string pattern, int open, int close, char c)
    {
        int i = open + 1;
        bool negate = pattern[i] is '!' or '^';
        if (negate)
        {
            i++;
        }

        bool found = false;
        for (; i < close; i++)
        {
            if (i + 2 < close && pattern[i + 1] == '-')
            {
                found |= c >= pattern[i] && c <= pattern[i + 2];
                i += 2;
            }
            else
            {
                found |= c == pattern[i];
            }
        }

        return found != negate;
    }

    /// <summary>The folder made of the pattern's leading segments that hold no wildcard ("/" when the first does).</summary>
    public string LiteralPrefix
    {
        get
        {
            int n = 1;
            while (n < parts.Length && !SegmentIsPattern(parts[n]))
            {
                n++;
            }

            return n <= 1 ? "/" : string.Join('/', parts[..n]);
        }
    }

    public bool Matches(string path) => Match(parts, 0, path.Split('/'), 0);

    /// <summary>True when some ancestor directory of <paramref name="path"/> matches (a matched directory covers its subtree).</summary>
    public bool MatchesPrefixOf(string path)
    {
        var segs = path.Split('/');
        for (int n = segs.Length - 1; n >= 1; n--)
        {
            if (Match(parts, 0, segs[..n], 0))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Match(string[] pat, int pi, string[] segs, int si)
    {
        while (pi < pat.Length)
        {
            if (pat[pi] == "**")
            {
                for (int k = si; k <= segs.Length; k++)
                {
                    if (Match(pat, pi + 1, segs, k))
                    {
                        return true;
                    }
                }

                return false;
            }

            if (si >= segs.Length || !Segment(pat[pi], segs[si]))
            {
                return false;
            }

            pi++;
            si++;
        }

        return si == segs.Length;
    }

    private static bool Segment(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            int close = p < pattern.Length && pattern[p] == '[' ? ClassEnd(pattern, p) : -1;
            if (close > 0 && InClass(pattern, p, close, text[t]))
            {
                p = close + 1;
                t++;
            }
            else if (close < 0 && p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
