using System.Collections.Concurrent;

namespace Cordon.Policy;

/// <summary>
/// The guard on code that runs later, outside the sandbox: files that git, editors, direnv, shells and package
/// managers execute or obey when the user works in a folder, with no sandbox around them (a `.git/hooks/pre-commit`,
/// `core.fsmonitor` in `.git/config`, a `.vscode/tasks.json` that runs on folder open, an `.envrc`). Writing one of
/// them is how a sandboxed script escapes without breaking any rule: so a write there is asked (denied when nobody
/// can be asked) even inside a folder the user allowed, unless a rule names the file itself or the guarded folder
/// (`--allow-write=.git/hooks`); a rule on a parent folder, `--allow-write` alone and `-A` do not.
/// <para>
/// Not guarded: ordinary project files the user runs knowingly (Makefile, package.json, scripts), `.env` (data the
/// application reads, not code for the shell; reading secrets is another question), and anything below
/// `node_modules` (a package manager's tree, all of which is code the user runs anyway and which nobody opens as a
/// workspace or repository). A folder the run created itself is the run's own: guarded names in it (a cloned
/// repository's `.git/config`, its `.vscode`) are not guarded, because nothing the user had there can be changed.
/// The same holds for the `.git` directory of a repository the run created (`git init`): see the README's limits.
/// </para>
/// The list lives here, once: learn mode's SENSITIVE flag and the prompt's folder offers use it through
/// <see cref="Policy.IsSensitive"/>.
/// </summary>
public sealed class OutsideCodeGuard
{
    /// <summary>Names guarded wherever they appear, with what they are (shown in the denial line).</summary>
    private static readonly Dictionary<string, string> Names = new(StringComparer.Ordinal)
    {
        [".vscode"] = "VS Code workspace settings and tasks",
        [".idea"] = "JetBrains project settings",
        [".envrc"] = "a direnv script",
        [".direnv"] = "direnv's folder",
        [".gitmodules"] = "git submodule settings",
        [".gitattributes"] = "git attributes (they name filters and diff drivers)",
        [".bashrc"] = "a shell start-up file",
        [".bash_profile"] = "a shell start-up file",
        [".bash_login"] = "a shell start-up file",
        [".bash_logout"] = "a shell start-up file",
        [".profile"] = "a shell start-up file",
        [".zshrc"] = "a shell start-up file",
        [".zshenv"] = "a shell start-up file",
        [".zprofile"] = "a shell start-up file",
        [".zlogin"] = "a shell start-up file",
        [".zlogout"] = "a shell start-up file",
        [".npmrc"] = "npm settings (script-shell, node-options)",
        [".yarnrc"] = "yarn settings",
        [".yarnrc.yml"] = "yarn settings (yarnPath runs a file as yarn)",
        [".bash_aliases"] = "a shell start-up file (Debian's .bashrc reads it)",
        [".husky"] = "git hooks (husky points core.hooksPath here)",
        [".githooks"] = "git hooks (a core.hooksPath folder)",
        [".pre-commit-config.yaml"] = "pre-commit hooks (run at the next git commit)",
        [".lefthook.yml"] = "lefthook git hooks",
        [".lefthook-local.yml"] = "lefthook git hooks",
        [".mise.toml"] = "mise settings (tasks and hooks run on cd)",
        [".mise.local.toml"] = "mise settings (tasks and hooks run on cd)",
        [".devcontainer"] = "dev container settings (initializeCommand runs on this machine)",
        [".mcp.json"] = "MCP servers an AI agent starts",
    };

    /// <summary>The same, for file names without a leading dot (only as the last component).</summary>
    private static readonly Dictionary<string, string> PlainNames = new(StringComparer.Ordinal)
    {
        ["lefthook.yml"] = "lefthook git hooks",
        ["lefthook-local.yml"] = "lefthook git hooks",
        ["mise.toml"] = "mise settings (tasks and hooks run on cd)",
        ["mise.local.toml"] = "mise settings (tasks and hooks run on cd)",
    };

    /// <summary>
    /// Places in the home directory (relative to it) that programs run or obey later, outside the sandbox, in every
    /// folder: a `~/.gitconfig` with core.fsmonitor runs at the next `git status` anywhere, a program in `~/.local/bin`
    /// shadows a system one. A name ending in '*' covers every sibling it begins (`.local/lib/python3.11`). The
    /// credentials places (<see cref="Sensitive.Places"/>) are guarded too: `~/.ssh/authorized_keys`, an AWS profile's
    /// credential_process, a kubeconfig's exec plugin, a `.gpg-id` in the password store.
    /// </summary>
    private static readonly (string Place, string What)[] HomePlaces =
    [
        (".gitconfig", "git settings (core.fsmonitor, core.pager, aliases, credential helpers)"),
        (".config/git", "git settings (core.fsmonitor, core.pager, aliases, credential helpers)"),
        (".local/bin", "programs on your PATH"),
        ("bin", "programs on your PATH"),
        (".dotnet/tools", "programs on your PATH (dotnet tools)"),
        (".cargo/bin", "programs on your PATH (cargo install)"),
        (".local/lib/python*", "Python's user packages (a .pth file there runs at every python start)"),
        (".config/pip", "pip settings (the package index it installs from)"),
        (".pip", "pip settings (the package index it installs from)"),
        (".pydistutils.cfg", "Python build settings"),
        (".gradle/init.gradle", "a Gradle init script (runs in every build)"),
        (".gradle/init.gradle.kts", "a Gradle init script (runs in every build)"),
        (".gradle/init.d", "Gradle init scripts (run in every build)"),
        (".gradle/gradle.properties", "Gradle settings (JVM arguments for every build)"),
        (".m2/settings.xml", "Maven settings (repositories, mirrors)"),
        (".mavenrc", "a shell script mvn reads at every start"),
        (".nvm", "nvm (every shell runs its nvm.sh)"),
        (".pyenv", "pyenv (its shims are on your PATH)"),
        (".config/fish", "a shell start-up file"),
        (".config/autostart", "programs started at login"),
        (".config/systemd", "systemd user services"),
        (".local/share/systemd", "systemd user services"),
        (".config/environment.d", "the login environment"),
        (".pam_environment", "the login environment"),
        (".xprofile", "an X session start-up file"),
        (".xsession", "an X session start-up file"),
        (".xsessionrc", "an X session start-up file"),
        (".xinitrc", "an X session start-up file"),
        (".local/share/applications", "desktop launchers"),
        (".vimrc", "an editor start-up file"),
        (".vim", "editor plugins"),
        (".exrc", "an editor start-up file"),
        (".config/nvim", "an editor start-up file and plugins"),
        (".local/share/nvim", "editor plugins"),
        (".emacs", "an editor start-up file"),
        (".emacs.d", "an editor start-up file and packages"),
        (".config/emacs", "an editor start-up file and packages"),
        (".config/Code/User", "VS Code settings and tasks"),
        (".config/Code - OSS/User", "VS Code settings and tasks"),
        (".config/VSCodium/User", "VS Code settings and tasks"),
        (".config/Cursor/User", "Cursor settings and tasks"),
        (".vscode-server/data/Machine", "VS Code settings for remote sessions"),
        (".tmux.conf", "tmux settings (run-shell runs commands)"),
        (".config/tmux", "tmux settings (run-shell runs commands)"),
        (".screenrc", "screen settings (they run commands)"),
    ];

    // The first component of every home place and credentials place (".config", ".local", "bin", ...); a '*' place
    // ends in its own first component only when it has no '/', which none has.
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> HomeFirstNames = FirstNames();

    private readonly string? home;

    /// <param name="home">The user's home, for <see cref="HomePlaces"/> and the credentials places; none when null.</param>
    public OutsideCodeGuard(string? home = null) => this.home = home?.TrimEnd('/') is { Length: > 0 } h ? h : null;

    /// <summary>Names inside a `.git` directory that git executes or obeys: hooks, settings, attributes.</summary>
    private static readonly Dictionary<string, string> GitNames = new(StringComparer.Ordinal)
    {
        ["hooks"] = "git hooks",
        ["config"] = "git settings (core.fsmonitor, core.pager, core.hooksPath, aliases)",
        ["config.worktree"] = "git settings",
        ["info"] = "git attributes and excludes",
        ["modules"] = "submodule repositories",
        ["worktrees"] = "linked worktrees' settings",
    };

    /// <summary>A folder whose entry and some names inside it are guarded: `.git`, and tools' settings folders.</summary>
    /// <param name="Itself">What the entry is, for a write of the entry itself (one prepared elsewhere, moved, linked or
    /// written into place: a gitdir: file, a .claude folder with its settings).</param>
    /// <param name="OwnedWithItself">Its names are the run's own when the run made the folder itself (`git init`);
    /// otherwise only when the run made the folder that holds it (a .claude the run made in the user's project is
    /// where the user's agent will look).</param>
    private sealed class GuardedFolder(string itself, Dictionary<string, string> names, bool ownedWithItself = false)
    {
        public string Itself { get; } = itself;

        public Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Names { get; } = names.GetAlternateLookup<ReadOnlySpan<char>>();

        public bool OwnedWithItself { get; } = ownedWithItself;
    }

    /// <summary>
    /// `.git`, and the files inside a tool's folder (in a project or the home directory) that make the tool run
    /// commands: an AI agent's hooks and MCP servers, cargo's compiler wrapper and linker, Maven's JVM options and
    /// wrapper. The rest of those folders is the tool's own state or cache, written all day.
    /// </summary>
    private static readonly Dictionary<string, GuardedFolder> Folders = new(StringComparer.Ordinal)
    {
        [".git"] = new("a git repository (or a gitdir: link)", GitNames, ownedWithItself: true),
        [".cargo"] = new("cargo settings (build.rustc-wrapper and linkers run programs)", new(StringComparer.Ordinal)
        {
            ["config"] = "cargo settings (build.rustc-wrapper and linkers run programs)",
            ["config.toml"] = "cargo settings (build.rustc-wrapper and linkers run programs)",
        }),
        [".mvn"] = new("Maven's JVM options (a -javaagent runs code)", new(StringComparer.Ordinal)
        {
            ["jvm.config"] = "Maven's JVM options (a -javaagent runs code)",
            ["maven.config"] = "Maven options",
            ["extensions.xml"] = "Maven extensions (code in every build)",
            ["wrapper"] = "the Maven wrapper (the Maven it downloads and runs)",
        }),
        [".claude"] = new("Claude Code settings (hooks run commands)", new(StringComparer.Ordinal)
        {
            ["settings.json"] = "Claude Code settings (hooks run commands)",
            ["settings.local.json"] = "Claude Code settings (hooks run commands)",
        }),
        [".cursor"] = new("MCP servers an AI agent starts", new(StringComparer.Ordinal) { ["mcp.json"] = "MCP servers an AI agent starts" }),
        [".gemini"] = new("Gemini CLI settings (MCP servers and tools run commands)",
            new(StringComparer.Ordinal) { ["settings.json"] = "Gemini CLI settings (MCP servers and tools run commands)" }),
    };

    // Looked up by span: a write's path is scanned without allocating a string per component.
    private static readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> NameLookup = Names.GetAlternateLookup<ReadOnlySpan<char>>();
    private static readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> PlainNameLookup = PlainNames.GetAlternateLookup<ReadOnlySpan<char>>();
    private static readonly (int Shortest, int Longest) PlainLengths = Lengths(PlainNames.Keys);
    private static readonly Dictionary<string, GuardedFolder>.AlternateLookup<ReadOnlySpan<char>> FolderLookup = Folders.GetAlternateLookup<ReadOnlySpan<char>>();

    // Loops, not LINQ: these run at every start (see BuiltIn.For).
    private static HashSet<string>.AlternateLookup<ReadOnlySpan<char>> FirstNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (place, _) in HomePlaces)
        {
            names.Add(place.Split('/')[0]);
        }

        foreach (var place in Sensitive.Places)
        {
            names.Add(place.Split('/')[0]);
        }

        return names.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    private static (int Shortest, int Longest) Lengths(IEnumerable<string> names)
    {
        int shortest = int.MaxValue, longest = 0;
        foreach (var n in names)
        {
            shortest = Math.Min(shortest, n.Length);
            longest = Math.Max(longest, n.Length);
        }

        return (shortest, longest);
    }

    /// <summary>Directories the sandbox created in this run (canonical paths), as the engine reports them.</summary>
    private readonly ConcurrentDictionary<string, byte> created = new(StringComparer.Ordinal);

    // Policy.Match never caches a decision about a guarded name, so nothing cached depends on this set.
    /// <summary>The engine made directory <paramref name="path"/> (canonical) for the sandbox: it is the run's own.</summary>
    public void DirectoryCreated(string path)
    {
        if (!path.StartsWith('/'))
        {
            return;
        }

        path = path.Length > 1 ? path.TrimEnd('/') : path;
        int slash = path.LastIndexOf('/');
        if (path.EndsWith("/.git", StringComparison.Ordinal) && !Owns(slash <= 0 ? "/" : path[..slash]))
        {
            // git init in a folder the user had: its settings and hooks are the run's own from now on. Said at the end.
            newRepositories.TryAdd(path, 0);
        }

        created.TryAdd(path, 0);
    }

    private readonly ConcurrentDictionary<string, byte> newRepositories = new(StringComparer.Ordinal);

    /// <summary>
    /// The `.git` directories the run made in folders it did not make (git init in the user's folder): their hooks and
    /// settings were not guarded, and git run there later obeys them. cordon names them when the run ends.
    /// </summary>
    public IReadOnlyList<string> RepositoriesCreated => [.. newRepositories.Keys.Order(StringComparer.Ordinal)];

    /// <summary>
    /// <paramref name="path"/> is about to be renamed (either end): whatever lies at or below it is no longer known
    /// to be the run's own (an empty folder the run created could be replaced by one the user had, and moved back).
    /// A removal needs nothing: a name that is gone can only come back through a create, a rename or a symlink, and
    /// rules see a symlink's target.
    /// </summary>
    public void Moved(string path)
    {
        if (created.IsEmpty)
        {
            return;
        }

        foreach (var p in created.Keys)
        {
            if (Descriptor.InTree(path, p))
            {
                created.TryRemove(p, out _);
            }
        }
    }

    /// <summary>
    /// A guarded place a path lies at or in: its root (the guarded name's full path) and what it is;
    /// <paramref name="Home"/> for a place of the home directory that holds no credentials (`~/.local/bin`).
    /// </summary>
    public readonly record struct Hit(string Root, string What, bool Home = false);

    /// <summary>
    /// The innermost guarded name <paramref name="path"/> lies at or in, ignoring what the run created; null when
    /// none. Names only: the home directory's places need an instance (<see cref="Find"/>).
    /// </summary>
    public static Hit? FindName(string path) => Scan(path, null, directory: false);

    /// <summary>The guarded place <paramref name="path"/> lies at or in (a name, or a place in the home directory), ignoring what the run created; null when none.</summary>
    public Hit? Find(string path) => Scan(path, null, directory: false) ?? InHome(path);

    /// <summary>
    /// The innermost guarded place a write to <paramref name="path"/> touches that is not the run's own, or null.
    /// <paramref name="directory"/>: the write creates a directory (a new repository's `.git` is allowed; a `.git`
    /// file, a gitdir: link to elsewhere, is not). A place in the home directory is guarded even when the run made
    /// it: a `~/.local/bin` the run created is on the PATH of the next login all the same.
    /// </summary>
    public Hit? Check(string path, bool directory) => Scan(path, this, directory) ?? InHome(path);

    /// <summary>The place of the home directory (<see cref="HomePlaces"/>, <see cref="Sensitive.Places"/>) <paramref name="path"/> lies at or in.</summary>
    private Hit? InHome(string path)
    {
        if (home is null || path.Length <= home.Length + 1 || path[home.Length] != '/' || !path.StartsWith(home, StringComparison.Ordinal))
        {
            return null;
        }

        var inHome = path.AsSpan(home.Length + 1);
        int first = inHome.IndexOf('/');
        if (!HomeFirstNames.Contains(first < 0 ? inHome : inHome[..first]))
        {
            return null; // ~/project/...: one lookup, not a scan of every place (writes pass here)
        }

        foreach (var (place, what) in HomePlaces)
        {
            if (At(inHome, place) is int length)
            {
                return new Hit(path[..(home.Length + 1 + length)], what, Home: true);
            }
        }

        foreach (var place in Sensitive.Places)
        {
            if (At(inHome, place) is int length)
            {
                return new Hit(path[..(home.Length + 1 + length)], "credentials or their settings");
            }
        }

        return null;

        // The length of the part of inHome that is the place, when inHome is the place or lies below it.
        static int? At(ReadOnlySpan<char> inHome, string place)
        {
            if (place.EndsWith('*'))
            {
                var stem = place.AsSpan(0, place.Length - 1);
                if (!inHome.StartsWith(stem, StringComparison.Ordinal))
                {
                    return null;
                }

                int end = inHome[stem.Length..].IndexOf('/');
                return end < 0 ? inHome.Length : stem.Length + end;
            }

            return inHome.StartsWith(place, StringComparison.Ordinal) && (inHome.Length == place.Length || inHome[place.Length] == '/')
                ? place.Length
                : null;
        }
    }

    private static Hit? Scan(string path, OutsideCodeGuard? state, bool directory)
    {
        if (!path.StartsWith('/'))
        {
            return null;
        }

        Hit? hit = null;
        int start = 1;
        while (start < path.Length)
        {
            int end = path.IndexOf('/', start);
            if (end < 0)
            {
                end = path.Length;
            }

            var name = path.AsSpan(start, end - start);
            if (name.SequenceEqual("node_modules"))
            {
                break;
            }

            string Holder() => start == 1 ? "/" : path[..(start - 1)];
            if (name.Length < 2 || name[0] != '.')
            {
                // Guarded names start with a dot but for a few file names: ordinary components cost one length check
                // and no lookup (every write passes here).
                if (end == path.Length && name.Length >= PlainLengths.Shortest && name.Length <= PlainLengths.Longest && PlainNameLookup.TryGetValue(name, out var plain) && !(state?.Owns(Holder()) ?? false))
                {
                    hit = new Hit(path, plain);
                }

                start = end + 1;
                continue;
            }

            if (FolderLookup.TryGetValue(name, out var folder))
            {
                if (end == path.Length)
                {
                    // The entry itself: a repository or settings prepared elsewhere moved into place, a gitdir: file,
                    // a symlink. Making the folder (mkdir, git init) is not.
                    if (!(directory || (state?.Owns(Holder()) ?? false)))
                    {
                        hit = new Hit(path, folder.Itself);
                    }

                    break;
                }

                int innerEnd = path.IndexOf('/', end + 1);
                var inner = innerEnd < 0 ? path.AsSpan(end + 1) : path.AsSpan(end + 1, innerEnd - end - 1);
                if (folder.Names.TryGetValue(inner, out var what) && !(state?.Owns(folder.OwnedWithItself ? path[..end] : Holder()) ?? false))
                {
                    hit = new Hit(innerEnd < 0 ? path : path[..innerEnd], what);
                }
            }
            else if (NameLookup.TryGetValue(name, out var what) && !(state?.Owns(Holder()) ?? false))
            {
                hit = new Hit(path[..end], what);
            }

            start = end + 1;
        }

        return hit;
    }

    /// <summary>Whether <paramref name="folder"/> or a folder above it was created by this run.</summary>
    private bool Owns(string folder)
    {
        if (created.IsEmpty)
        {
            return false;
        }

        var f = folder;
        while (f.Length > 1)
        {
            if (created.ContainsKey(f))
            {
                return true;
            }

            int slash = f.LastIndexOf('/');
            f = slash <= 0 ? "/" : f[..slash];
        }

        return false;
    }

    /// <summary>
    /// Whether the guard may decide a path at or below <paramref name="folder"/>: true everywhere except below a
    /// `node_modules` with no guarded name above it (a guarded name can be created in any folder at any time).
    /// </summary>
    public static bool MayApplyWithin(string folder)
    {
        if (FindName(folder) is not null)
        {
            return true;
        }

        return !(folder.Contains("/node_modules/", StringComparison.Ordinal) || folder.EndsWith("/node_modules", StringComparison.Ordinal));
    }

    /// <summary>
    /// Whether <paramref name="rule"/> names the guarded place itself: a path rule (or glob) at or inside
    /// <paramref name="root"/>. A rule on a parent folder, or on everything, does not lift the guard.
    /// </summary>
    public static bool NamesPlace(Rule rule, string root) => rule.Descriptor switch
    {
        PathDescriptor { IsGlob: false } p => Descriptor.InTree(root, p.Path),
        PathDescriptor p => Descriptor.InTree(root, new Glob(p.Path).LiteralPrefix),
        _ => false,
    };

    /// <summary>The decision when nobody can be asked.</summary>
    public static Decision Denial(Hit hit) =>
        new(Verdict.Deny, DecisionSource.Guard, $"code that runs outside the sandbox: {hit.What} ({hit.Root})");
}
