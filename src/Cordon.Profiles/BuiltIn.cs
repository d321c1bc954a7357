using Cordon.Policy;

namespace Cordon.Profiles;

/// <summary>
/// Abstractions a profile can include: what a toolchain needs beyond cordon's base rules (which already cover the
/// system's files and programs). Caches and configuration only; never credentials (~/.npmrc with its tokens,
/// ~/.git-credentials, ~/.cargo/credentials.toml, ~/.pypirc stay out and are asked about).
/// </summary>
public static class BuiltIn
{
    private static readonly Dictionary<string, string> Texts = new(StringComparer.Ordinal)
    {
        ["node"] = """
            read:  { allow: ["~/.npm", "~/.node-gyp", "~/.cache/node-gyp", "~/.nvm", "~/.yarn", "~/.cache/yarn", "~/.local/share/pnpm"] }
            write: { allow: ["~/.npm", "~/.node-gyp", "~/.cache/node-gyp", "~/.cache/yarn", "~/.local/share/pnpm"] }
            net:   { allow: ["registry.npmjs.org:443", "registry.yarnpkg.com:443"] }
            """,
        ["python"] = """
            read:  { allow: ["~/.cache/pip", "~/.local/lib", "~/.pyenv", "~/.cache/pypoetry", "~/.cache/uv"] }
            write: { allow: ["~/.cache/pip", "~/.cache/pypoetry", "~/.cache/uv"] }
            net:   { allow: ["pypi.org:443", "files.pythonhosted.org:443"] }
            """,
        ["dotnet"] = """
            read:  { allow: ["~/.nuget/packages", "~/.dotnet", "~/.local/share/NuGet"] }
            write: { allow: ["~/.nuget/packages", "~/.dotnet", "~/.local/share/NuGet"] }
            net:   { allow: ["api.nuget.org:443"] }
            """,
        ["cargo"] = """
            read:  { allow: ["~/.cargo/registry", "~/.cargo/git", "~/.cargo/bin", "~/.cargo/config.toml", "~/.rustup"] }
            write: { allow: ["~/.cargo/registry", "~/.cargo/git"] }
            net:   { allow: ["crates.io:443", "index.crates.io:443", "static.crates.io:443"] }
            """,
        ["java"] = """
            read:  { allow: ["~/.m2/repository", "~/.m2/wrapper", "~/.gradle/caches", "~/.gradle/wrapper", "~/.gradle/native"] }
            write: { allow: ["~/.m2/repository", "~/.m2/wrapper", "~/.gradle/caches", "~/.gradle/wrapper", "~/.gradle/native"] }
            net:   { allow: ["repo.maven.apache.org:443", "repo1.maven.org:443", "plugins.gradle.org:443", "services.gradle.org:443", "downloads.gradle.org:443"] }
            """,
        ["git"] = """
            read:  { allow: ["~/.gitconfig", "~/.config/git/config", "~/.config/git/ignore", "~/.config/git/attributes"] }
            """,
        ["shells"] = """
            read:  { allow: ["~/.inputrc"] }
            """,
    };

    public static IReadOnlyCollection<string> Names => Texts.Keys;

    // The programs that bring each set along. npm and npx are scripts that node runs (npm-cli.js); pip, poetry and
    // friends are scripts that python runs: the interpreter's own exec brings the set too.
    private static readonly (string Set, Func<string, bool> Runs)[] Tools =
    [
        ("node", n => n is "node" or "nodejs" or "npm" or "npx" or "npm-cli.js" or "npx-cli.js" or "yarn" or "yarn.js" or "yarnpkg" or "pnpm" or "pnpx" or "corepack"),
        ("python", n => n is "python" or "pip" or "pipx" or "poetry" or "uv" or "uvx" || Versioned(n, "python") || Versioned(n, "pip")),
        ("dotnet", n => n is "dotnet"),
        ("cargo", n => n is "cargo" or "rustc" or "rustup" or "rustdoc" || n.StartsWith("cargo-", StringComparison.Ordinal)),
        ("java", n => n is "java" or "javac" or "jar" or "jshell" or "mvn" or "mvnw" or "gradle" or "gradlew" or "kotlin" or "kotlinc"),
        ("git", n => n is "git" || n.StartsWith("git-", StringComparison.Ordinal)),
        ("shells", n => n is "sh" or "bash" or "dash" or "zsh"),
    ];

    /// <summary>The tools each set applies for, as shown by `cordon profile show`.</summary>
    public static string Triggers(string set) => set switch
    {
        "node" => "node, npm, npx, yarn, pnpm, corepack",
        "python" => "python, python3, pip, pip3, pipx, poetry, uv",
        "dotnet" => "dotnet",
        "cargo" => "cargo, rustc, rustup, cargo-*",
        "java" => "java, javac, jar, jshell, mvn, mvnw, gradle, gradlew, kotlin, kotlinc",
        "git" => "git, git-*",
        "shells" => "sh, bash, dash, zsh",
        _ => "",
    };

    /// <summary>The sets that apply when a program with this file name runs (<c>python3.11</c> brings python).</summary>
    public static IReadOnlyList<string> For(string programFileName)
    {
        // A loop, not Where().Select(): every run asks, and in the native build a Select after another operator is
        // a generic virtual call that the runtime resolves at its first use (a fraction of a millisecond).
        var sets = new List<string>();
        foreach (var t in Tools)
        {
            if (t.Runs(programFileName))
            {
                sets.Add(t.Set);
            }
        }

        return sets;
    }

    private static bool Versioned(string name, string tool) =>
        name.StartsWith(tool, StringComparison.Ordinal) && name.Length > tool.Length
        && name[tool.Length..].All(c => char.IsAsciiDigit(c) || c == '.');

    /// <summary>
    /// The rules a set gives when it applies by default (its tool ran), each saying so, as source
    /// <see cref="DecisionSource.BuiltIn"/>. Whatever a set's text says, a rule that would reach a credentials place
    /// (<see cref="Sensitive"/>: ~/.ssh, ~/.npmrc, ~/.config/gh, or a folder holding one) is dropped: a set is
    /// applied without anyone reading it, so it must never be what opens a secret.
    /// </summary>
    public static IReadOnlyList<Rule> Grants(string set, string tool, IPathResolver resolver) =>
        Safe(Get(set).Rules(resolver).Select(r =>
            new Rule(r.Kind, r.Verdict, r.Descriptor, DecisionSource.BuiltIn, $"built-in {set} ({tool} ran): {r.Text.Split(": ", 2)[1]}")), resolver.Home);

    /// <summary>The rules of <paramref name="rules"/> that reach no credentials place of <paramref name="home"/>.</summary>
    public static IReadOnlyList<Rule> Safe(IEnumerable<Rule> rules, string home) =>
        rules.Where(r => r.Verdict == Verdict.Deny || r.Descriptor switch
        {
            PathDescriptor p => !Sensitive.Reachable(home, GlobRoot(p.Path)),
            ExactPathDescriptor e => !Sensitive.Contains(home, e.Path),
            AnyDescriptor or AllButSensitiveDescriptor => false,
            _ => true,
        }).ToList();

    /// <summary>The folder a glob cannot leave: the part before its first wildcard component.</summary>
    private static string GlobRoot(string path)
    {
        int wild = path.IndexOfAny(['*', '?', '[']);
        if (wild < 0)
        {
            return path;
        }

        int slash = path.LastIndexOf('/', wild);
        return slash <= 0 ? "/" : path[..slash];
    }

    public static string Text(string name) => Texts[name];

    /// <summary>The parsed abstraction (its rules say "profile include NAME").</summary>
    public static Profile Get(string name) => Profile.Parse(Texts[name], "include " + name, "built-in " + name, NoResolver.Instance);

    /// <summary>Built-ins are parsed for checking only: their paths all start with "~", resolved when rules are made.</summary>
    private sealed class NoResolver : IPathResolver
    {
        public static readonly NoResolver Instance = new();

        public string Home => "/nonexistent-home";

        public string WorkingDirectory => "/";

        public string Canonicalize(string absolutePath) => absolutePath;

        public string? FindProgram(string name) => null;
    }
}
