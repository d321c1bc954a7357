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
        ["git"] = """
            read:  { allow: ["~/.gitconfig", "~/.config/git/config", "~/.config/git/ignore", "~/.config/git/attributes"] }
            """,
        ["shells"] = """
            read:  { allow: ["~/.inputrc"] }
            """,
    };

    public static IReadOnlyCollection<string> Names => Texts.Keys;

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
