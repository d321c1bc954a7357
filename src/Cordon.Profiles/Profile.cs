using Cordon.Policy;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Cordon.Profiles;

/// <summary>A broken profile: one line, "FILE:LINE:COLUMN: what is wrong". Nothing runs with a broken profile.</summary>
public sealed class ProfileException(string message) : Exception(OneLine(message))
{
    public ProfileException()
        : this("broken profile")
    {
    }

    public ProfileException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }

    // A value quoted in the message may hold a line break or an escape sequence ("u\nix:/x" in a mangled file):
    // the message stays one line that cannot draw on the terminal.
    private static string OneLine(string message) =>
        message.Any(char.IsControl)
            ? string.Concat(message.Select(c => c switch { '\n' => "\\n", '\t' => "\\t", _ when char.IsControl(c) => $"\\u{(int)c:x4}", _ => c.ToString() }))
            : message;
}

/// <summary>One entry of a profile list, as written: "~/.npm", "*.github.com:443".</summary>
public sealed record ProfileEntry(AccessKind Kind, Verdict Verdict, string Value);

/// <summary>
/// A profile: rules per kind with allow and deny lists, plus includes of built-in abstractions.
/// <code>
/// include: [node, git]
/// read:  { allow: [., ~/.npm], deny: [~/.ssh] }
/// write: { allow: [., ~/.npm] }
/// run:   { allow: [git] }
/// net:   { allow: ["registry.npmjs.org:443"] }
/// env:   { allow: [NPM_CONFIG_REGISTRY] }
/// </code>
/// Values use the same syntax as the flags (--allow-read=...): `~`, relative paths (against the directory cordon
/// runs in), globs (`*`, `**`), HOST[:PORT], `*.domain`, CIDR, `unix:/path`, program names or paths.
/// </summary>
public sealed class Profile
{
    public static readonly string[] Kinds = ["read", "write", "run", "net", "env"];

    private Profile(string name, IReadOnlyList<string> includes, IReadOnlyList<ProfileEntry> entries)
    {
        Name = name;
        Includes = includes;
        Entries = entries;
    }

    public string Name { get; }

    public IReadOnlyList<string> Includes { get; }

    public IReadOnlyList<ProfileEntry> Entries { get; }

    public static Profile Empty(string name) => new(name, [], []);

    /// <summary>Parses and checks a profile. <paramref name="source"/> names the file in error messages.</summary>
    public static Profile Parse(string text, string name, string source, IPathResolver resolver)
    {
        var stream = new YamlStream();
        var scanner = new Scanner(new StringReader(text));
        try
        {
            stream.Load(new Parser(scanner));
        }
        catch (YamlException e)
        {
            throw new ProfileException($"{source}:{e.Start.Line}:{e.Start.Column}: {FirstLine(e.Message)}");
        }
#pragma warning disable CA1031 // any failure of the YAML library on a broken file is that file's error
        catch (Exception e)
#pragma warning restore CA1031
        {
            // YamlDotNet throws more than YamlException on some broken input: `read: {allow: [.]\nwrite: x` made its
            // scanner throw InvalidOperationException, and a repeated key is an ArgumentException. Neither carries a
            // position; the scanner's is where it stopped.
            var at = scanner.CurrentPosition;
            throw new ProfileException($"{source}:{at.Line}:{at.Column}: not a valid profile ({FirstLine(e.Message)})");
        }

        var includes = new List<string>();
        var entries = new List<ProfileEntry>();
        if (stream.Documents.Count > 1)
        {
            throw Error(source, stream.Documents[1].RootNode, "a profile is one YAML document (no second '---')");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return new Profile(name, includes, entries);
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw Error(source, stream.Documents[0].RootNode, "a profile is a mapping of include, read, write, run, net, env");
        }

        foreach (var (keyNode, value) in root.Children)
        {
            var key = Scalar(source, keyNode);
            if (key == "include")
            {
                foreach (var item in List(source, value))
                {
                    var inc = Scalar(source, item);
                    if (!BuiltIn.Names.Contains(inc))
                    {
                        throw Error(source, item, $"unknown include \"{inc}\" (built in: {string.Join(", ", BuiltIn.Names)})");
                    }

                    includes.Add(inc);
                }

                continue;
            }

            int k = Array.IndexOf(Kinds, key);
            if (k < 0)
            {
                throw Error(source, keyNode, $"unknown key \"{key}\" (expected include, {string.Join(", ", Kinds)})");
            }

            var kind = (AccessKind)k;
            if (value is not YamlMappingNode lists)
            {
                throw Error(source, value, $"\"{key}\" holds allow: and deny: lists");
            }

            foreach (var (verdictNode, items) in lists.Children)
            {
                var verdictText = Scalar(source, verdictNode);
                Verdict verdict = verdictText switch
                {
                    "allow" => Verdict.Allow,
                    "deny" => Verdict.Deny,
                    _ => throw Error(source, verdictNode, $"unknown key \"{verdictText}\" under {key} (expected allow, deny)"),
                };
                foreach (var item in List(source, items))
                {
                    var v = Scalar(source, item);
                    try
                    {
                        _ = FlagRules.Parse(kind, verdict, v, resolver);
                    }
                    catch (PolicyException e)
                    {
                        throw Error(source, item, e.Message);
                    }

                    entries.Add(new ProfileEntry(kind, verdict, v));
                }
            }
        }

        return new Profile(name, includes, entries);
    }

    /// <summary>The rules this profile gives (includes first), each saying where it came from.</summary>
    public IReadOnlyList<Rule> Rules(IPathResolver resolver)
    {
        var rules = new List<Rule>();
        foreach (var inc in Includes)
        {
            rules.AddRange(BuiltIn.Get(inc).Rules(resolver));
        }

        foreach (var e in Entries)
        {
            foreach (var r in FlagRules.Parse(e.Kind, e.Verdict, e.Value, resolver))
            {
                rules.Add(new Rule(e.Kind, e.Verdict, r.Descriptor, DecisionSource.Profile,
                    $"profile {Name}: {Kinds[(int)e.Kind]} {e.Verdict.ToString().ToLowerInvariant()} {e.Value}"));
            }
        }

        return rules;
    }

    /// <summary>A copy with <paramref name="entry"/> added (unchanged when it is already there).</summary>
    public Profile With(ProfileEntry entry) =>
        Entries.Contains(entry) ? this : new Profile(Name, Includes, [.. Entries, entry]);

    /// <summary>A copy with every entry and include of <paramref name="other"/> that this one lacks.</summary>
    public Profile Merge(Profile other)
    {
        var result = this;
        foreach (var e in other.Entries)
        {
            result = result.With(e);
        }

        var includes = result.Includes.Union(other.Includes).ToList();
        return new Profile(Name, includes, result.Entries);
    }

    /// <summary>The profile as YAML, in a fixed order (kinds, then allow before deny, entries in the order added).</summary>
    public string Render(string? header = null)
    {
        var w = new StringWriter { NewLine = "\n" };
        if (header is not null)
        {
            foreach (var line in header.Split('\n'))
            {
                w.WriteLine("# " + line);
            }
        }

        if (Includes.Count > 0)
        {
            w.WriteLine($"include: [{string.Join(", ", Includes)}]");
        }

        for (int k = 0; k < Kinds.Length; k++)
        {
            var ofKind = Entries.Where(e => (int)e.Kind == k).ToList();
            if (ofKind.Count == 0)
            {
                continue;
            }

            w.WriteLine($"{Kinds[k]}:");
            foreach (var verdict in new[] { Verdict.Allow, Verdict.Deny })
            {
                var items = ofKind.Where(e => e.Verdict == verdict).ToList();
                if (items.Count == 0)
                {
                    continue;
                }

                w.WriteLine($"  {verdict.ToString().ToLowerInvariant()}:");
                foreach (var e in items)
                {
                    w.WriteLine("    - " + Quote(e.Value));
                }
            }
        }

        return w.ToString();
    }

    /// <summary>YAML double-quoted scalar: safe for any value (`*.x` would be an alias, `~` null, `:` a key).</summary>
    private static string Quote(string value)
    {
        var sb = new System.Text.StringBuilder("\"");
        foreach (var ch in value)
        {
            sb.Append(ch switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                _ when ch < 0x20 => $"\\x{(int)ch:x2}",
                _ => ch.ToString(),
            });
        }

        return sb.Append('"').ToString();
    }

    private static IEnumerable<YamlNode> List(string source, YamlNode node) => node switch
    {
        YamlSequenceNode seq => seq.Children,
        YamlScalarNode { Value: null or "" } => [],
        _ => throw Error(source, node, "expected a list: [a, b] or lines starting with \"- \""),
    };

    private static string Scalar(string source, YamlNode node)
    {
        if (node is YamlScalarNode { Value: { Length: > 0 } v })
        {
            return v;
        }

        throw Error(source, node, "expected a value");
    }

    private static ProfileException Error(string source, YamlNode node, string message) =>
        new($"{source}:{node.Start.Line}:{node.Start.Column}: {message}");

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
