using System.CommandLine;
using System.Diagnostics;
using Cordon.Policy;
using Cordon.Profiles;
using Cordon.Supervisor;
using Cordon.Terminal;

namespace Cordon.Cli;

/// <summary>The verbs besides `run`: profile, log, doctor, unload.</summary>
internal static class Verbs
{
    public static readonly HashSet<string> Names = ["profile", "log", "doctor", "unload"];

    public static IEnumerable<Command> All(TextWriter output, TextWriter error) => [Profile(output, error), Log(output, error), Doctor(output), Unload(output, error)];

    private static ProfileStore Store() => ProfileStore.ForUser(SystemPathResolver.ForCurrentProcess().Home);

    /// <summary>The project of the current directory (see <see cref="Project.Find"/>).</summary>
    private static Project HereProject()
    {
        var resolver = SystemPathResolver.ForCurrentProcess();
        return Project.Find(resolver.WorkingDirectory, resolver.Home, p => File.Exists(p) || Directory.Exists(p));
    }

    /// <summary>A profile argument: "." is this project's profile, anything else as <see cref="ProfileStore.PathOf"/>.</summary>
    private static string PathOf(ProfileStore store, string name) => name == "." ? HereProject().ProfilePath(store) : store.PathOf(name);

    private static Command Profile(TextWriter output, TextWriter error)
    {
        var profile = new Command("profile", "List, show, edit, remove and trust profiles (rules kept between runs).");
        var list = new Command("list", "List the profiles in ~/.config/cordon/profiles.");
        list.SetAction(_ =>
        {
            var store = Store();
            foreach (var name in store.List())
            {
                output.WriteLine(name);
            }

            foreach (var (root, file) in store.ListProjects())
            {
                output.WriteLine($"project {Display.Escape(root)} ({file})");
            }

            output.WriteLine($"(built in, for include: {string.Join(", ", BuiltIn.Names)})");
            return 0;
        });

        var nameArg = new Argument<string?>("NAME")
        {
            Description = "A profile name, a file, '.' (this project's answers), or a built-in set. Without NAME: what applies in this directory.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var show = new Command("show", "Print a profile, or without NAME what applies here: the project, its answers, its own .cordon.yaml, the built-in sets.") { nameArg };
        show.SetAction(r =>
        {
            var store = Store();
            if (r.GetValue(nameArg) is not { } name)
            {
                ShowHere(store, output);
                return 0;
            }

            var path = PathOf(store, name);
            if (!File.Exists(path) && BuiltIn.Names.Contains(name))
            {
                output.WriteLine($"# built-in abstraction \"{name}\" (use it with include: [{name}])");
                output.Write(BuiltIn.Text(name));
                output.WriteLine();
                return 0;
            }

            if (!File.Exists(path))
            {
                error.WriteLine($"cordon: no profile {name} ({path})");
                return 1;
            }

            ProfileStore.Load(path, SystemPathResolver.ForCurrentProcess(), mayBeMissing: false); // errors with line:column
            output.Write(File.ReadAllText(path));
            return 0;
        });

        var editArg = new Argument<string>("NAME") { Description = "The profile to edit (created when missing)." };
        var edit = new Command("edit", "Open a profile in $VISUAL or $EDITOR; a broken result can be edited again or rolled back, never kept.") { editArg };
        edit.SetAction(r => EditProfile(PathOf(Store(), r.GetValue(editArg)!), r.GetValue(editArg) == "." ? HereProject().Header : null, output, error));

        var rmArg = new Argument<string>("NAME");
        var rm = new Command("rm", "Remove a profile.") { rmArg };
        rm.SetAction(r =>
        {
            var path = PathOf(Store(), r.GetValue(rmArg)!);
            if (!File.Exists(path))
            {
                error.WriteLine($"cordon: no profile at {path}");
                return 1;
            }

            File.Delete(path);
            output.WriteLine($"cordon: removed {path}");
            return 0;
        });

        var trustArg = new Argument<string>("FILE") { Description = "A project's profile (usually .cordon.yaml) you have read and accept." };
        var trust = new Command("trust", "Trust a project's own profile as it is now (any later change makes it untrusted again).") { trustArg };
        trust.SetAction(r =>
        {
            var file = r.GetValue(trustArg)!;
            ProfileStore.Load(Path.GetFullPath(file), SystemPathResolver.ForCurrentProcess(), mayBeMissing: false);
            var store = Store();
            AsSudoUser.Write(store.ConfigDirectory, () => store.Trust(file));
            output.WriteLine($"cordon: trusting {Path.GetFullPath(file)} with SHA-256 {ProfileStore.Hash(file)}");
            return 0;
        });

        var addName = new Argument<string>("NAME");
        var addKind = new Argument<string>("KIND") { Description = "read, write, run, net or env." };
        var addVerdict = new Argument<string>("VERDICT") { Description = "allow or deny." };
        var addValue = new Argument<string>("VALUE") { Description = "A path, program, HOST[:PORT] or variable name, as for the flags." };
        var add = new Command("add", "Add one rule to a profile: cordon profile add npm read allow ~/.npm") { addName, addKind, addVerdict, addValue };
        add.SetAction(r =>
        {
            int kind = Array.IndexOf(Cordon.Profiles.Profile.Kinds, r.GetValue(addKind));
            var verdictText = r.GetValue(addVerdict);
            if (kind < 0 || verdictText is not ("allow" or "deny"))
            {
                error.WriteLine("cordon: profile add NAME (read|write|run|net|env) (allow|deny) VALUE");
                return Program.UsageError;
            }

            var verdict = verdictText == "allow" ? Verdict.Allow : Verdict.Deny;
            var resolver = SystemPathResolver.ForCurrentProcess();
            var value = r.GetValue(addValue)!;
            _ = FlagRules.Parse((AccessKind)kind, verdict, value, resolver);
            var store = Store();
            var path = PathOf(store, r.GetValue(addName)!);
            var project = r.GetValue(addName) == "." ? HereProject() : null;
            IPathResolver loadAs = project is null ? resolver : new RootedResolver(resolver, project.Root);
            AsSudoUser.Write(path, () => ProfileStore.Save(path, [new ProfileEntry((AccessKind)kind, verdict, value)], loadAs, project?.Header));
            return 0;
        });

        foreach (var c in new[] { list, show, edit, rm, trust, add })
        {
            profile.Subcommands.Add(c);
        }

        return profile;
    }

    /// <summary>`cordon profile show` without a name: everything that decides a run started in this directory, and where it lives.</summary>
    private static void ShowHere(ProfileStore store, TextWriter output)
    {
        var resolver = SystemPathResolver.ForCurrentProcess();
        var project = HereProject();
        var inProject = new RootedResolver(resolver, project.Root);
        output.WriteLine($"project: {Display.Escape(project.Describe())}");
        var answers = project.ProfilePath(store);
        if (File.Exists(answers))
        {
            var saved = ProfileStore.Load(answers, inProject, mayBeMissing: false);
            output.WriteLine($"answers saved for this project ({saved.Entries.Count} rules; every program run here uses them): {answers}");
            foreach (var line in saved.Render().TrimEnd('\n').Split('\n'))
            {
                output.WriteLine("  " + Display.Escape(line));
            }
        }
        else
        {
            output.WriteLine($"answers saved for this project: none yet (\"always\" and \"folder\" answers will go to {answers})");
        }

        var shipped = Path.Combine(project.Root, Profiles.ProjectProfile);
        output.WriteLine(!File.Exists(shipped)
            ? $"the project's own {Profiles.ProjectProfile}: none"
            : store.IsTrusted(shipped)
                ? $"the project's own {Profiles.ProjectProfile}: trusted, used ({shipped})"
                : $"the project's own {Profiles.ProjectProfile}: NOT trusted, ignored until you read it and run 'cordon profile trust {shipped}'");

        var byProgram = store.List();
        output.WriteLine(byProgram.Count == 0
            ? "profiles named after a program: none"
            : $"profiles named after a program (each read when cordon runs that program; answers are no longer added there): {string.Join(", ", byProgram)}");

        output.WriteLine("built-in sets (each applies once the run starts one of its tools; never a credentials place; off with --no-builtins):");
        foreach (var set in BuiltIn.Names)
        {
            var rules = BuiltIn.Grants(set, set, resolver).Select(r => r.Text.Split(": ", 2)[1]);
            output.WriteLine($"  {set,-7} when {BuiltIn.Triggers(set)} runs: {string.Join("; ", rules)}");
        }
    }

    /// <summary>
    /// `cordon profile edit`: the editor works on a copy next to the profile, and only a copy that parses replaces it
    /// (atomically). A broken copy is offered for another edit or rolled back: a profile that stops every later run
    /// is never left behind, and a run starting while the editor is open reads the old profile, not half an edit.
    /// The answer is read from stdin; no answer (end of input, no terminal) rolls back.
    /// </summary>
    private static int EditProfile(string path, string? header, TextWriter output, TextWriter error)
    {
        var dir = Path.GetDirectoryName(path)!;
        var copy = Path.Combine(dir, $".{Path.GetFileNameWithoutExtension(path)}.{Environment.ProcessId}.edit.yaml");
        bool existed = File.Exists(path);
        string? before = existed ? ProfileStore.Hash(path) : null;
        AsSudoUser.Write(copy, () =>
        {
            Directory.CreateDirectory(dir, ProfileStore.PrivateDirectory);
            using var created = ProfileStore.OpenPrivate(copy, FileMode.Create, FileAccess.Write, FileShare.None);
            var text = existed
                ? File.ReadAllBytes(path)
                : System.Text.Encoding.UTF8.GetBytes((header is null ? "" : string.Concat(header.Split('\n').Select(l => "# " + l + "\n")))
                    + "# cordon profile: read, write, run, net, env with allow: and deny: lists; include: [node, git, ...]\n");
            created.Write(text);
        });

        try
        {
            var editor = Environment.GetEnvironmentVariable("VISUAL") is { Length: > 0 } v ? v : Environment.GetEnvironmentVariable("EDITOR") is { Length: > 0 } e ? e : "vi";
            while (true)
            {
                using (var p = Process.Start(new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", editor + " \"$1\"", "sh", copy }, UseShellExecute = false })!)
                {
                    p.WaitForExit();
                    if (p.ExitCode != 0)
                    {
                        error.WriteLine($"cordon: the editor exited with status {p.ExitCode}; {path} is unchanged");
                        return 1;
                    }
                }

                try
                {
                    ProfileStore.Load(copy, SystemPathResolver.ForCurrentProcess(), mayBeMissing: false);
                }
                catch (ProfileException broken)
                {
                    error.WriteLine("cordon: " + broken.Message.Replace(copy, path, StringComparison.Ordinal));
                    error.Write($"cordon: e to edit it again, anything else to roll back to the profile as it was: ");
                    error.Flush();
                    if (Console.In.ReadLine()?.Trim() is "e" or "E")
                    {
                        continue;
                    }

                    error.WriteLine(existed ? $"cordon: rolled back; {path} is unchanged" : $"cordon: rolled back; {path} was not created");
                    return Program.UsageError;
                }

                if (existed && File.Exists(path) && ProfileStore.Hash(path) != before)
                {
                    error.WriteLine($"cordon: {path} changed while you edited it (a run saved an answer?); your version replaces it");
                }

                AsSudoUser.Write(path, () => File.Move(copy, path, overwrite: true));
                output.WriteLine($"cordon: {path} is valid");
                return 0;
            }
        }
        finally
        {
            if (File.Exists(copy))
            {
                File.Delete(copy);
            }
        }
    }

    private static Command Log(TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("FILE") { Description = "A log written by 'cordon run --log FILE'." };
        var why = new Option<string?>("--why")
        {
            Description = "Say which rule or answer decided each request for RESOURCE: a path (relative or ~ works; a folder covers what is below it), a host name or address, a program, a variable.",
            HelpName = "RESOURCE",
        };
        var all = new Option<bool>("--all") { Description = "List every resource with its verdict, not only the denials and the rules that allowed the rest." };
        var log = new Command("log", "Summarize an audit log: totals, every denial, and what allowed the rest.") { file, why, all };
        log.SetAction(r =>
        {
            var path = r.GetValue(file)!;
            if (!File.Exists(path))
            {
                error.WriteLine($"cordon: no log at {path}");
                return 1;
            }

            var (records, skipped) = AuditLog.Read(path);
            if (r.GetValue(why) is { } resource)
            {
                var resolver = SystemPathResolver.ForCurrentProcess();
                var matching = LogReport.Why(records, resource, resolver.WorkingDirectory, resolver.Home);
                if (matching.Count == 0)
                {
                    output.WriteLine($"no decision about {Display.Escape(resource)} in {path}");
                    return 1;
                }

                foreach (var g in matching.GroupBy(x => (x.Value, x.Verdict, x.Source, x.Rule)))
                {
                    var first = g.First();
                    output.WriteLine($"{first.Verdict} ({Display.Escape(LogReport.Decided(first))}): {g.Count()} time(s), first at {first.Datetime} by {Display.Escape(Path.GetFileName(first.Exe ?? "?"))} (pid {first.Pid}), {first.Operation} {Display.Escape(first.Value)}");
                }

                return 0;
            }

            int width = Cordon.Interop.Tty.IsATty(1) == 1 && Cordon.Interop.Tty.GetSize(1) is { Cols: > 0 } size ? size.Cols : 100;
            foreach (var line in LogReport.Summary(records, skipped, width, r.GetValue(all)))
            {
                output.WriteLine(line);
            }

            return 0;
        });
        return log;
    }

    private static Command Unload(TextWriter output, TextWriter error)
    {
        var unload = new Command("unload",
            "Detach the LSM engine's BPF programs (root). The first run with --engine lsm loads them and they stay loaded, idle, so that later runs start at once; this removes them. Exit status 0 when nothing is loaded any more, 1 when refused (not root, or a run is using them).");
        unload.SetAction(_ =>
        {
            try
            {
                output.WriteLine(Supervisor.Lsm.LsmEngine.Unload());
                return 0;
            }
            catch (Exception e) when (e is Supervisor.SandboxException or IOException or UnauthorizedAccessException or Cordon.Interop.ErrnoException)
            {
                error.WriteLine("cordon: " + e.Message);
                return 1;
            }
        });
        return unload;
    }

    private static Command Doctor(TextWriter output)
    {
        var doctor = new Command("doctor", "Say what this kernel offers and what cordon can promise on it. Exit status 1 when cordon cannot run.");
        doctor.SetAction(_ => Cli.Doctor.Run(output));
        return doctor;
    }
}
