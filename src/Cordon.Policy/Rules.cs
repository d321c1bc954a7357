using System.Text.RegularExpressions;

namespace Cordon.Policy;

/// <summary>One rule: for requests of <paramref name="Kind"/> that <paramref name="Descriptor"/> covers, <paramref name="Verdict"/>.</summary>
/// <param name="Text">How to show the rule: "--allow-read=/home/u/p", "base: system files".</param>
public sealed record Rule(AccessKind Kind, Verdict Verdict, Descriptor Descriptor, DecisionSource Source, string Text)
{
    /// <summary>The decision this rule gives (built once: the hot path returns it without allocating).</summary>
    public Decision Decision { get; } = new(Verdict, Source, Text);

    /// <summary>
    /// A base grant of system files that stands for the user: when cordon runs as root it covers only what the user
    /// could read without cordon (<see cref="Request.UnreadableByUser"/>).
    /// </summary>
    public bool AsUser { get; init; }
}

/// <summary>Deno-style permission flags to rules: `--allow-read[=P,...]` and friends.</summary>
public static partial class FlagRules
{
    public static string FlagName(AccessKind kind, Verdict verdict) =>
        (verdict == Verdict.Allow ? "--allow-" : "--deny-") + kind.ToString().ToLowerInvariant();

    /// <summary>
    /// Parses one flag's value. <paramref name="value"/> null means "everything of this kind". Throws
    /// <see cref="PolicyException"/> with one line naming the flag and the bad value.
    /// </summary>
    public static IReadOnlyList<Rule> Parse(AccessKind kind, Verdict verdict, string? value, IPathResolver resolver)
    {
        string flag = FlagName(kind, verdict);
        if (value is null)
        {
            return [new Rule(kind, verdict, new AnyDescriptor(), DecisionSource.Flag, flag)];
        }

        var rules = new List<Rule>();
        foreach (var raw in value.Split(','))
        {
            var item = raw.Trim();
            if (item.Length == 0)
            {
                throw new PolicyException($"{flag}: empty value in \"{value}\"");
            }

            try
            {
                foreach (var d in Descriptors(kind, item, resolver))
                {
                    rules.Add(new Rule(kind, verdict, d, DecisionSource.Flag, $"{flag}={item}"));
                }
            }
            catch (PolicyException e)
            {
                throw new PolicyException($"{flag}: {e.Message}");
            }
        }

        return rules;
    }

    private static IEnumerable<Descriptor> Descriptors(AccessKind kind, string item, IPathResolver resolver)
    {
        switch (kind)
        {
            case AccessKind.Read or AccessKind.Write when item.StartsWith(ExactPathDescriptor.Prefix, StringComparison.Ordinal):
                return [new ExactPathDescriptor(ResolvePath(item[ExactPathDescriptor.Prefix.Length..], resolver))];
            case AccessKind.Read or AccessKind.Write:
                return [new PathDescriptor(ResolvePath(item, resolver))];
            case AccessKind.Run when !item.Contains('/'):
                var found = resolver.FindProgram(item) ?? throw new PolicyException($"no program \"{item}\" on PATH");
                return [new ProgramDescriptor(resolver.Canonicalize(found))];
            case AccessKind.Run:
                // A path: the program itself, or a directory of programs (./node_modules/.bin) and everything below.
                return [new PathDescriptor(ResolvePath(item, resolver))];
            case AccessKind.Net when item == LocalListenDescriptor.Value:
                return [new LocalListenDescriptor()];
            case AccessKind.Net:
                return NetDescriptor.Parse(item);
            default:
                if (!EnvName().IsMatch(item))
                {
                    throw new PolicyException($"\"{item}\" is not an environment variable name (letters, digits, '_', optional trailing '*')");
                }

                return [new EnvDescriptor(item)];
        }
    }

    /// <summary>"~", "~/x" and relative paths to an absolute canonical path (globs are kept as written).</summary>
    public static string ResolvePath(string item, IPathResolver resolver)
    {
        string path = item == "~" ? resolver.Home
            : item.StartsWith("~/", StringComparison.Ordinal) ? resolver.Home.TrimEnd('/') + item[1..]
            : item;
        if (item.StartsWith('~') && path == item)
        {
            throw new PolicyException($"\"{item}\": only ~ and ~/ are understood, not ~user");
        }

        // Path.GetFullPath(path, base) only normalizes text ("a/../b"); it does not touch the file system.
        var full = Path.GetFullPath(path, resolver.WorkingDirectory);
        if (!Glob.IsPattern(full))
        {
            return resolver.Canonicalize(full);
        }

        // Only what the user wrote is a pattern: a '*', '?' or '[' in the home or working directory names itself.
        string? baseDir = path != item ? resolver.Home.TrimEnd('/') : !item.StartsWith('/') ? resolver.WorkingDirectory : null;
        if (baseDir is null || baseDir.AsSpan().IndexOfAny('*', '?', '[') < 0)
        {
            return full;
        }

        var written = path != item ? item[1..].TrimStart('/') : item;
        return Path.GetFullPath(written.Length == 0 ? "." : written, Glob.Escape(baseDir));
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*\\*?$")]
    private static partial Regex EnvName();
}

/// <param name="Home">The user's home: nothing in it is granted.</param>
/// <param name="RunTempDir">The run's private temp dir (TMPDIR), writable.</param>
/// <param name="ProgramPath">The program the user named: it may run.</param>
public sealed record BaseContext(string Home, string? RunTempDir, string? ProgramPath)
{
    /// <summary>
    /// The user's own terminal devices (/dev/pts/N) when the program has a pty of cordon's: opening them by name
    /// would bypass that pty (keys read behind cordon's back, settings changed, escape sequences unfiltered).
    /// </summary>
    public IReadOnlyList<string> UserTerminals { get; init; } = [];
}

/// <summary>
/// What every program needs to start and nothing more: the system (libraries, programs, configuration, locales,
/// time zones), its own /proc entries and those of its sandbox siblings, the terminal and the null devices.
/// Nothing in the user's home is granted, and neither is the shared /tmp (each run gets a private TMPDIR).
/// </summary>
public static class BaseRules
{
    private static readonly string[] SystemReadable =
    [
        "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
        "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/pts", "/dev/ptmx",
        "/sys/devices/system/cpu", "/sys/devices/system/node", "/sys/fs/cgroup", "/sys/kernel/mm/transparent_hugepage",
        "/sys/kernel/mm/hugepages",
        "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/proc/loadavg", "/proc/uptime", "/proc/version",
        "/proc/filesystems", "/proc/sys/kernel", "/proc/sys/vm", "/proc/sys/fs", "/proc/sys/net/core/somaxconn",
        "/proc/swaps", "/proc/cgroups",
        // The system's caches of its own files: man's index, fontconfig's font lists.
        "/var/cache/man", "/var/cache/fontconfig",
    ];

    // Readable under /etc but secret: password hashes, sudo policy, host keys (reachable when cordon runs as root).
    // Root-only files not named here are covered too: as root the base rules grant only what the user could read
    // (Request.UnreadableByUser); this list also holds where a distribution leaves a secret group- or world-readable.
    private static readonly string[] SystemSecret =
    [
        "/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers", "/etc/sudoers.d",
        "/etc/ssh/ssh_host_*_key", "/etc/security/opasswd", "/etc/ssl/private",
        // VPN, Wi-Fi and network secrets, cluster credentials, stored service passwords, TLS and Kerberos keys.
        "/etc/wireguard", "/etc/NetworkManager/system-connections", "/etc/wpa_supplicant", "/etc/netplan",
        "/etc/ppp/chap-secrets", "/etc/ppp/pap-secrets", "/etc/ipsec.secrets", "/etc/ipsec.d/private", "/etc/openvpn",
        "/etc/kubernetes/*.conf", "/etc/kubernetes/pki", "/etc/rancher", "/etc/krb5.keytab", "/etc/letsencrypt/archive",
        "/etc/letsencrypt/keys", "/etc/pki/tls/private", "/etc/mysql/debian.cnf", "/etc/credstore", "/etc/credstore.encrypted",
        "/etc/cryptsetup-keys.d", "/root",
    ];

    private static readonly string[] SystemWritable = ["/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/pts", "/dev/ptmx"];

    private static readonly string[] SystemPrograms =
    [
        "/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/lib", "/usr/libexec", "/usr/local/bin", "/usr/local/lib",
        "/usr/share/dotnet", "/lib", "/lib64",
    ];

    /// <summary>
    /// Where /etc/resolv.conf leads on Ubuntu and Fedora (systemd-resolved), with NetworkManager, resolvconf or
    /// connman: reads are decided on the canonical path, so every name lookup would otherwise ask about a file under
    /// /run. Readable as system files; the view binds each that exists by itself (ViewPlan.StartFiles).
    /// </summary>
    public static readonly IReadOnlyList<string> ResolverFiles =
    [
        "/run/systemd/resolve/stub-resolv.conf", "/run/systemd/resolve/resolv.conf", "/run/NetworkManager/resolv.conf",
        "/run/NetworkManager/no-stub-resolv.conf", "/run/resolvconf/resolv.conf", "/run/connman/resolv.conf",
    ];

    public static IReadOnlyList<Rule> For(BaseContext context)
    {
        var rules = new List<Rule>();
        foreach (var p in (string[])[.. SystemReadable, .. ResolverFiles])
        {
            // The system's files, not the devices, /proc and /sys entries (a terminal cordon made as root is root's).
            bool files = !p.StartsWith("/dev/", StringComparison.Ordinal) && !p.StartsWith("/proc/", StringComparison.Ordinal) && !p.StartsWith("/sys/", StringComparison.Ordinal);
            rules.Add(new Rule(AccessKind.Read, Verdict.Allow, new PathDescriptor(p), DecisionSource.Base, "base: system files " + p) { AsUser = files });
        }

        foreach (var p in SystemSecret)
        {
            rules.Add(new Rule(AccessKind.Read, Verdict.Deny, new PathDescriptor(p), DecisionSource.Base, "base: system secret " + p));
        }

        rules.Add(new Rule(AccessKind.Read, Verdict.Allow, new SandboxProcDescriptor(), DecisionSource.Base, "base: /proc of the sandbox's own processes"));
        rules.Add(new Rule(AccessKind.Write, Verdict.Allow, new SandboxProcSettingDescriptor(), DecisionSource.Base, "base: a sandbox process's own name and core dump filter"));
        foreach (var p in SystemWritable)
        {
            rules.Add(new Rule(AccessKind.Write, Verdict.Allow, new PathDescriptor(p), DecisionSource.Base, "base: terminal and null devices " + p));
        }

        foreach (var t in context.UserTerminals)
        {
            rules.Add(new Rule(AccessKind.Read, Verdict.Deny, new PathDescriptor(t), DecisionSource.Base, "base: your terminal (the program has its own) " + t));
            rules.Add(new Rule(AccessKind.Write, Verdict.Deny, new PathDescriptor(t), DecisionSource.Base, "base: your terminal (the program has its own) " + t));
        }

        foreach (var p in SystemPrograms)
        {
            rules.Add(new Rule(AccessKind.Run, Verdict.Allow, new PathDescriptor(p), DecisionSource.Base, "base: system programs " + p));
        }

        if (context.RunTempDir is { } tmp)
        {
            rules.Add(new Rule(AccessKind.Read, Verdict.Allow, new PathDescriptor(tmp), DecisionSource.Base, "base: the run's private TMPDIR"));
            rules.Add(new Rule(AccessKind.Write, Verdict.Allow, new PathDescriptor(tmp), DecisionSource.Base, "base: the run's private TMPDIR"));
        }

        if (context.ProgramPath is { } program)
        {
            rules.Add(new Rule(AccessKind.Run, Verdict.Allow, new ProgramDescriptor(program), DecisionSource.Flag, "command line"));
        }

        rules.Add(new Rule(AccessKind.Net, Verdict.Allow, new FamilyDescriptor("netlink"), DecisionSource.Base, "base: netlink (getaddrinfo asks the kernel for local addresses)"));
        rules.Add(new Rule(AccessKind.Net, Verdict.Allow, new EphemeralBindDescriptor(), DecisionSource.Base, "base: binding port 0 (an ephemeral port exposes nothing until listen)"));
        return rules;
    }
}

/// <summary>/proc/PID/... of a process that belongs to the sandbox.</summary>
public sealed record SandboxProcDescriptor : Descriptor
{
    public override bool Matches(Request request) => OfSandbox(request, out _);

    /// <summary>
    /// Whether the request is for /proc/PID or below it, PID a process of the sandbox; <paramref name="below"/> is
    /// what follows "/proc/PID/" (empty for /proc/PID itself).
    /// </summary>
    internal static bool OfSandbox(Request request, out ReadOnlySpan<char> below)
    {
        below = default;
        var r = request.Resource.AsSpan();
        if (!r.StartsWith("/proc/"))
        {
            return false;
        }

        r = r[6..];
        int end = r.IndexOf('/');
        var pid = end < 0 ? r : r[..end];
        if (!int.TryParse(pid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n)
            || !request.Subject.IsSandboxMember(n))
        {
            return false;
        }

        below = end < 0 ? default : r[(end + 1)..];
        return true;
    }

    public override int Specificity => 3;

    public override string Text => "/proc/<sandbox pid>";

    public override Reach Within(string folder) => InTree("/proc", folder) || InTree(folder, "/proc") ? Reach.Some : Reach.None;
}

/// <summary>
/// The two settings of a sandbox process that only concern that process: its name (/proc/PID/comm,
/// /proc/PID/task/TID/comm: the kernel lets only the process itself change it) and what its core dumps hold
/// (/proc/PID/coredump_filter, written by every JVM at start). Nothing else under /proc/PID is writable by rule.
/// </summary>
public sealed record SandboxProcSettingDescriptor : Descriptor
{
    public override bool Matches(Request request)
    {
        if (!SandboxProcDescriptor.OfSandbox(request, out var r))
        {
            return false;
        }

        if (r is "comm" or "coredump_filter")
        {
            return true;
        }

        // task/TID/comm: TID is a thread of PID (the kernel lists only those there).
        if (r.Length <= "task//comm".Length || !r.StartsWith("task/") || !r.EndsWith("/comm"))
        {
            return false;
        }

        return int.TryParse(r[5..^5], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _);
    }

    public override int Specificity => 3;

    public override string Text => "/proc/<sandbox pid>/comm and coredump_filter";

    public override Reach Within(string folder) => InTree("/proc", folder) || InTree(folder, "/proc") ? Reach.Some : Reach.None;
}

/// <summary>Every socket of one address family (base rule for netlink).</summary>
public sealed record FamilyDescriptor(string Family) : Descriptor
{
    public override bool Matches(Request request) => request.Net?.Family == Family;

    public override int Specificity => 1;

    public override string Text => Family;
}

/// <summary>bind() of an IP address with port 0.</summary>
public sealed record EphemeralBindDescriptor : Descriptor
{
    public override bool Matches(Request request) =>
        request.Operation == Operation.Bind && request.Net is { Address: not null, Port: 0 };

    public override int Specificity => 1;

    public override string Text => "port 0";
}
