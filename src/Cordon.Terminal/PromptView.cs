using Cordon.Policy;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cordon.Terminal;

/// <summary>One key of a prompt and what it answers.</summary>
public sealed record Choice(char Key, PromptAnswer Answer, string Label);

/// <summary>
/// What a prompt looks like: a compact box, readable in 80 columns, that says what is asked, by whom, and the keys.
/// Pure text (no terminal): rendered here, written by <see cref="TerminalPrompter"/>, tested without a terminal.
/// </summary>
public static class PromptView
{
    /// <summary>Longest text taken from the program for one field (a 100 kB argv must not push the keys off screen).</summary>
    public const int FieldLimit = 240;

    public static string Verb(Request r) => r.Operation switch
    {
        Operation.Read => "read",
        Operation.List => "list",
        Operation.Write => "write",
        Operation.Create => "create",
        Operation.Delete => "delete",
        Operation.Rename => "rename",
        Operation.Link => "link",
        Operation.Attributes => "change",
        Operation.Exec => "run",
        Operation.Connect => "connect to",
        Operation.Bind => "bind",
        Operation.Listen => "listen on",
        Operation.Send => "send to",
        Operation.EnvRead => "read variable",
        _ => r.Operation.ToString().ToLowerInvariant(),
    };

    private static string KindPlural(AccessKind kind) => kind switch
    {
        AccessKind.Read => "reads",
        AccessKind.Write => "writes",
        AccessKind.Run => "programs",
        AccessKind.Net => "network",
        _ => "variables",
    };

    /// <summary>The keys offered for <paramref name="q"/>, in the order shown.</summary>
    public static IReadOnlyList<Choice> Choices(PromptQuestion q)
    {
        var list = new List<Choice>
        {
            new('y', PromptAnswer.AllowOnce, "allow once"),
            new('a', PromptAnswer.AllowAlways, "always"),
        };
        if (q.SuggestedFolder is { } folder)
        {
            string label = folder == LocalListenDescriptor.Value ? "localhost:* (listen on any port)"
                : (folder.Contains('*', StringComparison.Ordinal) ? "all " : "folder ") + Display.Short(folder, 48);
            list.Add(new('f', PromptAnswer.AllowFolder, label));
        }

        list.Add(new('A', PromptAnswer.AllowKind, "all " + KindPlural(q.Request.Kind)));
        list.Add(new('n', PromptAnswer.DenyOnce, "deny"));
        list.Add(new('d', PromptAnswer.DenyAlways, "deny always"));
        if (q.SuggestedFolder is not null && q.Flood is not null)
        {
            list.Add(new('x', PromptAnswer.DenyFolder, "deny folder"));
        }

        return list;
    }

    /// <summary>The answer a key gives, or null for a key that answers nothing (it is ignored).</summary>
    public static PromptAnswer? Answer(byte key, PromptQuestion q)
    {
        foreach (var c in Choices(q))
        {
            if (c.Key == key)
            {
                return c.Answer;
            }
        }

        return null;
    }

    /// <summary>The box, as text with ANSI colours, at most <paramref name="width"/> columns wide, ending with a newline.</summary>
    public static string Render(PromptQuestion q, int width)
    {
        var r = q.Request;
        var who = r.Subject.Process;
        var rows = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        rows.AddRow(Label(Verb(r)), new Text(Display.Short(r.Resource, FieldLimit), new Style(decoration: Decoration.Bold)));
        if (r.Requested is { } asked && asked != r.Resource)
        {
            rows.AddRow(Label("asked as"), new Text(Display.Short(asked, FieldLimit)));
        }

        if (q.Guarded is { } guarded)
        {
            rows.AddRow(Label("guard"), new Text("code that runs outside the sandbox: " + guarded, new Style(Color.Yellow)));
        }

        rows.AddRow(Label("by"), new Text(Display.Short($"{CommandLine(who)} (pid {who.Pid})", FieldLimit)));
        if (who.Exe is { } exe && !CommandLine(who).StartsWith(exe, StringComparison.Ordinal))
        {
            rows.AddRow(Label("program"), new Text(Display.Short(exe, FieldLimit)));
        }

        if (r.Subject.Ancestry.Count > 0)
        {
            var chain = r.Subject.Ancestry.Reverse().Select(p => Display.Short(CommandLine(p), 40)).Append(Display.Short(who.Name, 40));
            rows.AddRow(Label("via"), new Text(Display.Short(string.Join(" → ", chain), FieldLimit)));
        }

        if (q.Flood is { } flood && q.SuggestedFolder is { } folder)
        {
            string more = flood.Waiting > 0 ? $", {flood.Waiting} more waiting" : "";
            rows.AddRow(Label("note"), new Markup($"[yellow]question {flood.Asked} about {Markup.Escape(Display.Short(folder, 60))}{more}: answer for the folder with f or x[/]"));
        }

        var keys = string.Join("  ", Choices(q).Select(c => $"[bold cyan]{Markup.Escape(c.Key.ToString())}[/] {Markup.Escape(c.Label)}"));
        var body = new Rows(rows, new Text(""), new Markup(keys));
        var panel = new Panel(body)
        {
            Header = new PanelHeader($"[bold] cordon: {Markup.Escape(Display.Short(who.Name, 24))} wants to {Markup.Escape(Verb(r))} [/]"),
            Border = BoxBorder.Rounded,
            Expand = true,
        };
        return ToText(panel, width);
    }

    /// <summary>The question asked before the program starts, about variables that look secret.</summary>
    public static string RenderEnvironment(IReadOnlyList<string> names, int width)
    {
        var body = new Rows(
            new Text("These variables look secret. Programs you run can send them anywhere:"),
            new Text(Display.Short(string.Join(", ", names), FieldLimit * 2), new Style(decoration: Decoration.Bold)),
            new Text(""),
            new Markup("[bold cyan]y[/] pass once  [bold cyan]a[/] always pass  [bold cyan]n[/] withhold once  [bold cyan]d[/] always withhold"));
        var panel = new Panel(body)
        {
            Header = new PanelHeader("[bold] cordon: environment [/]"),
            Border = BoxBorder.Rounded,
            Expand = true,
        };
        return ToText(panel, width);
    }

    /// <summary>The answer a key gives at the environment question; null for a key that answers nothing. Ctrl-C withholds.</summary>
    public static EnvironmentAnswer? EnvironmentAnswerOf(byte key) => key switch
    {
        (byte)'y' => EnvironmentAnswer.PassOnce,
        (byte)'a' => EnvironmentAnswer.PassAlways,
        (byte)'n' or 3 => EnvironmentAnswer.WithholdOnce,
        (byte)'d' => EnvironmentAnswer.WithholdAlways,
        _ => null,
    };

    /// <summary>The line left after the environment question.</summary>
    public static string EnvironmentOutcome(EnvironmentAnswer answer, IReadOnlyList<string> names) => answer switch
    {
        EnvironmentAnswer.PassOnce => $"cordon: passing {names.Count} secret-looking variable(s) to the program",
        EnvironmentAnswer.PassAlways => $"cordon: passing {names.Count} secret-looking variable(s), from now on in this project",
        EnvironmentAnswer.WithholdAlways => $"cordon: withheld {string.Join(", ", names.Select(n => Display.Short(n, 40)))}, from now on in this project",
        _ => $"cordon: withheld {string.Join(", ", names.Select(n => Display.Short(n, 40)))}",
    };

    /// <summary>The line left on screen after an answer, so that the scrollback says what was decided.</summary>
    public static string Summary(PromptQuestion q, string outcome)
    {
        var r = q.Request;
        return $"cordon: {outcome}: {Verb(r)} {Display.Short(r.Resource, FieldLimit)} ({Display.Short(r.Subject.Process.Name, 40)}, pid {r.Subject.Process.Pid})";
    }

    public static string Outcome(PromptAnswer a, PromptQuestion q) => a switch
    {
        PromptAnswer.AllowOnce => "allowed once",
        PromptAnswer.AllowAlways => "allowed from now on",
        PromptAnswer.AllowFolder => "allowed the folder " + Display.Short(q.SuggestedFolder ?? q.Request.Resource, 60),
        PromptAnswer.AllowKind => "allowed all " + KindPlural(q.Request.Kind) + (q.Request.Kind is AccessKind.Read or AccessKind.Write or AccessKind.Run ? " but credentials places" : ""),
        PromptAnswer.DenyOnce => "denied once",
        PromptAnswer.DenyAlways => "denied from now on",
        PromptAnswer.DenyFolder => "denied the folder " + Display.Short(q.SuggestedFolder ?? q.Request.Resource, 60),
        _ => a.ToString(),
    };

    private static string CommandLine(ProcessSummary p) => p.Argv.Count > 0 ? string.Join(' ', p.Argv) : p.Name;

    private static Text Label(string text) => new(text, new Style(Color.Grey));

    private static string ToText(IRenderable renderable, int width)
    {
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.Standard,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = Math.Clamp(width, 40, 80);
        console.Write(renderable);
        return writer.ToString();
    }
}

/// <summary>The answer to the environment question (see <see cref="TerminalPrompter.AskEnvironmentAsync"/>).</summary>
public enum EnvironmentAnswer
{
    PassOnce,
    PassAlways,
    WithholdOnce,
    WithholdAlways,
}
