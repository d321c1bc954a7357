namespace Cordon.Policy;

/// <summary>The five kinds of access cordon decides (after Deno's permission kinds).</summary>
public enum AccessKind
{
    Read,
    Write,
    Run,
    Net,
    Env,
}

/// <summary>What the process literally tried to do; several operations share one <see cref="AccessKind"/>.</summary>
public enum Operation
{
    /// <summary>Open a file for reading (the seccomp engine says <see cref="List"/> for a directory).</summary>
    Read,
    /// <summary>Open an existing file for writing (or truncate it).</summary>
    Write,
    Create,
    Delete,
    /// <summary>Rename or move; asked for both the source and the destination.</summary>
    Rename,
    /// <summary>Hard or symbolic link: asked for the new name (and, for hard links, Read of the target).</summary>
    Link,
    /// <summary>chmod, chown, utimes, xattr changes.</summary>
    Attributes,
    Exec,
    Connect,
    Bind,
    Listen,
    Send,
    EnvRead,
    /// <summary>Open a directory for reading, to list it: decided as <see cref="AccessKind.Read"/> of that directory.</summary>
    List,
}

/// <summary>
/// One process as cordon shows it: enough for a person to know who is asking. The executable and command line
/// can be supplied lazily: the engine reads them from /proc only when a prompt, a log record or a denial needs
/// them, not for every decided open.
/// </summary>
public sealed class ProcessSummary
{
    private readonly Lazy<(string? Exe, IReadOnlyList<string> Argv)> details;
    private readonly Lazy<int> pid;

    public ProcessSummary(int pid, string? exe, IReadOnlyList<string> argv)
    {
        this.pid = new Lazy<int>(pid);
        details = new Lazy<(string?, IReadOnlyList<string>)>((exe, argv));
    }

    /// <summary>Everything loaded on first use; <paramref name="pid"/> too, since seccomp reports a thread id.</summary>
    public ProcessSummary(Func<int> pid, Func<(string? Exe, IReadOnlyList<string> Argv)> load)
    {
        this.pid = new Lazy<int>(pid, LazyThreadSafetyMode.ExecutionAndPublication);
        details = new Lazy<(string?, IReadOnlyList<string>)>(load, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Thread group id (what ps calls the pid).</summary>
    public int Pid => pid.Value;

    /// <summary>Canonical path of the executable, or null when it could not be read.</summary>
    public string? Exe => details.Value.Exe;

    public IReadOnlyList<string> Argv => details.Value.Argv;

    /// <summary>A short name for people: the executable's file name, else argv[0].</summary>
    public string Name =>
        Exe is { } e ? e[(e.LastIndexOf('/') + 1)..] : Argv.Count > 0 ? Argv[0] : "pid " + Pid;

    public override string ToString() => $"{Name} (pid {Pid})";
}

/// <summary>The process making a request, with its parents up to the sandbox root.</summary>
public sealed class Subject
{
    private readonly Lazy<IReadOnlyList<ProcessSummary>> ancestry;

    /// <param name="tid">The thread that asked (seccomp reports thread ids).</param>
    /// <param name="ancestry">Parents, nearest first, ending with the sandbox root; empty for the root itself.</param>
    /// <param name="isSandboxMember">
    /// Answers whether a pid belongs to this sandbox (used by base rules on /proc/PID); supplied by the engine so
    /// the policy core itself does no I/O.
    /// </param>
    public Subject(ProcessSummary process, int tid, IReadOnlyList<ProcessSummary> ancestry, Func<int, bool> isSandboxMember)
        : this(process, tid, () => ancestry, isSandboxMember)
    {
    }

    public Subject(ProcessSummary process, int tid, Func<IReadOnlyList<ProcessSummary>> ancestry, Func<int, bool> isSandboxMember)
    {
        Process = process;
        Tid = tid;
        this.ancestry = new Lazy<IReadOnlyList<ProcessSummary>>(ancestry, LazyThreadSafetyMode.ExecutionAndPublication);
        IsSandboxMember = isSandboxMember;
    }

    public ProcessSummary Process { get; }

    public int Tid { get; }

    public IReadOnlyList<ProcessSummary> Ancestry => ancestry.Value;

    public Func<int, bool> IsSandboxMember { get; }

    public static Subject Unknown(int pid) =>
        new(new ProcessSummary(pid, null, Array.Empty<string>()), pid, Array.Empty<ProcessSummary>(), _ => false);
}

/// <summary>A network destination or listening address as far as the engine could tell.</summary>
/// <param name="Address">IP address, or null for Unix sockets and unknown families.</param>
/// <param name="Port">Port, 0 when there is none.</param>
/// <param name="Names">Host names this sandbox resolved to <paramref name="Address"/> (empty until DNS tracking).</param>
/// <param name="UnixPath">Canonical socket path for AF_UNIX path sockets, "@name" for abstract ones.</param>
/// <param name="Family">"inet", "inet6", "unix", "netlink" or another family name.</param>
public sealed record NetTarget(
    System.Net.IPAddress? Address,
    int Port,
    IReadOnlyList<string> Names,
    string? UnixPath,
    string Family)
{
    /// <summary>What the address is to this machine, for people ("the system's DNS server"); never matched by rules.</summary>
    public string? Role { get; init; }

    /// <summary>
    /// Port 53 of a DNS server the machine's resolver uses (/etc/resolv.conf), as the engine found: what the net rule
    /// `dns` matches, whatever the address is on this network.
    /// </summary>
    public bool SystemResolver { get; init; }

    /// <summary>The text shown to people and written to logs: "name:443 (1.2.3.4)", "1.2.3.4:443", "unix:/run/x.sock".</summary>
    public string Display
    {
        get
        {
            if (UnixPath is not null)
            {
                return "unix:" + UnixPath;
            }

            if (Address is null)
            {
                return Family;
            }

            var addr = Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                ? "[" + Address + "]"
                : Address.ToString();
            return Names.Count > 0 ? $"{string.Join(", ", Names)}:{Port} ({addr})"
                : Role is not null ? $"{Role} ({addr}:{Port})"
                : $"{addr}:{Port}";
        }
    }
}

/// <summary>
/// What a process asks for. <see cref="Resource"/> is canonical (what the rules match): an absolute path with
/// symlinks resolved for Read/Write/Run, <see cref="NetTarget.Display"/> for Net, the variable name for Env.
/// <see cref="Requested"/> is what the process literally wrote (shown when it differs).
/// </summary>
public sealed record Request(
    AccessKind Kind,
    Operation Operation,
    string Resource,
    string? Requested,
    Subject Subject,
    NetTarget? Net = null)
{
    /// <summary>A create that makes a directory (mkdir), not a file: the guard tells a new repository's `.git` from a gitdir: file.</summary>
    public bool MakesDirectory { get; init; }

    /// <summary>
    /// cordon runs as root and the user it stands for could not read this file themselves (<see cref="InvokingUser"/>):
    /// the base rules do not grant it, only a user rule does.
    /// </summary>
    public bool UnreadableByUser { get; init; }
}

public enum Verdict
{
    Allow,
    Deny,
}

/// <summary>Where a decision came from, so the log and `why` can explain it.</summary>
public enum DecisionSource
{
    /// <summary>A command-line flag (--allow-read, --deny-net, ...).</summary>
    Flag,
    /// <summary>A rule of a profile file.</summary>
    Profile,
    /// <summary>A person's answer at the prompt (or an answer remembered for the run).</summary>
    Prompt,
    /// <summary>cordon's built-in base rules that let ordinary programs start.</summary>
    Base,
    /// <summary>No rule matched and nobody could be asked.</summary>
    Default,
    /// <summary>The guard on code that runs outside the sandbox (<see cref="OutsideCodeGuard"/>), with nobody to ask.</summary>
    Guard,
    /// <summary>The request could not be decided (unreadable memory, process gone, internal error): denied.</summary>
    Error,
    /// <summary>
    /// cordon's own protections, refused before any rule is asked because no rule may allow them (cordon's own
    /// processes, privileges left behind): the denial says why instead of suggesting a flag.
    /// </summary>
    Sandbox,
    /// <summary>A built-in set (git, node, ...) that applies because the run started its tool (never a credentials place).</summary>
    BuiltIn,
    /// <summary>
    /// A change the kernel would refuse the program anyway (cordon runs as the same ordinary user, and the user may
    /// not write there: /usr, another user's folder, a read-only file system). Refused as the kernel would, with no
    /// question and no denial line: nothing a person could answer would make it work.
    /// </summary>
    Kernel,
}

/// <param name="Rule">The rule or answer that decided, in the form a user would write it ("--allow-read=/usr").</param>
public sealed record Decision(Verdict Verdict, DecisionSource Source, string Rule)
{
    public bool Allowed => Verdict == Verdict.Allow;

    public static Decision Error(string why) => new(Verdict.Deny, DecisionSource.Error, why);
}

/// <summary>A person's answer to one prompt.</summary>
public enum PromptAnswer
{
    AllowOnce,
    /// <summary>Allow this resource for the rest of the run.</summary>
    AllowAlways,
    /// <summary>Allow the folder offered in <see cref="PromptQuestion.SuggestedFolder"/>.</summary>
    AllowFolder,
    /// <summary>Allow everything of this kind for the rest of the run (Deno's "A").</summary>
    AllowKind,
    DenyOnce,
    DenyAlways,
    /// <summary>Deny the folder offered in <see cref="PromptQuestion.SuggestedFolder"/> for the rest of the run.</summary>
    DenyFolder,
}

/// <summary>A folder that keeps being asked about: the <paramref name="Asked"/>th question, <paramref name="Waiting"/> more distinct requests queued.</summary>
public sealed record FloodInfo(int Asked, int Waiting);

/// <summary>
/// What the prompter is asked: the request, the folder cordon would offer, whether that folder is flooded, and,
/// for a write to a place the guard knows (<see cref="OutsideCodeGuard"/>), what runs or obeys it.
/// </summary>
public sealed record PromptQuestion(Request Request, string? SuggestedFolder, FloodInfo? Flood = null, string? Guarded = null);

/// <summary>
/// Asks a person (or a test, or nobody). Implementations: terminal, always-deny (no TTY, --no-prompt), test.
/// An implementation may take as long as a person needs; the engine holds only the asking thread.
/// </summary>
public interface IPrompter
{
    Task<PromptAnswer> AskAsync(PromptQuestion question, CancellationToken cancellationToken);
}

/// <summary>
/// File-system facts the policy core needs but must not fetch itself (the core does no I/O).
/// The engine supplies the real one; tests supply a fake.
/// </summary>
public interface IPathResolver
{
    /// <summary>The user's home directory, for "~".</summary>
    string Home { get; }

    /// <summary>The directory relative paths in flags are resolved against.</summary>
    string WorkingDirectory { get; }

    /// <summary>Resolves symlinks of an existing path (realpath); returns the input unchanged when it does not exist.</summary>
    string Canonicalize(string absolutePath);

    /// <summary>Finds a program name on PATH as the shell would; null when absent.</summary>
    string? FindProgram(string name);
}
