using System.CommandLine;
using Cordon.Policy;
using Cordon.Profiles;
using Cordon.Supervisor;
using Cordon.Supervisor.Lsm;
using Cordon.Supervisor.View;
using Cordon.Terminal;

namespace Cordon.Cli;

/// <summary>
/// cordon's command line. Exit statuses follow env(1) and timeout(1): the program's own status when it ran
/// (128+N when killed by signal N); 125 when cordon itself failed (bad flag, broken setup); 126 when the program
/// could not be executed; 127 when it was not found.
/// </summary>
public static class Program
{
    private static readonly string[] Engines = ["auto", "view", "seccomp", "lsm"];

    public const int UsageError = 125;
    public const int CannotExecute = 126;
    public const int NotFound = 127;

    private static readonly (string Flag, AccessKind Kind, Verdict Verdict, string Help)[] PermissionFlags =
    [
        ("--allow-read", AccessKind.Read, Verdict.Allow, "Allow reading these paths (comma separated; a directory covers everything below it). Alone: all reads."),
        ("--deny-read", AccessKind.Read, Verdict.Deny, "Deny reading these paths, even inside an allowed directory."),
        ("--allow-write", AccessKind.Write, Verdict.Allow, "Allow creating, changing, renaming and deleting below these paths. Alone: all writes."),
        ("--deny-write", AccessKind.Write, Verdict.Deny, "Deny writing these paths."),
        ("--allow-run", AccessKind.Run, Verdict.Allow, "Allow running these programs (names are looked up on PATH). Alone: any program."),
        ("--deny-run", AccessKind.Run, Verdict.Deny, "Deny running these programs."),
        ("--allow-net", AccessKind.Net, Verdict.Allow, "Allow connecting/sending to or listening on HOST[:PORT], CIDR, localhost, dns (the system's DNS servers), unix:/path. Alone: all network."),
        ("--deny-net", AccessKind.Net, Verdict.Deny, "Deny these network destinations."),
        ("--allow-env", AccessKind.Env, Verdict.Allow, "Pass these environment variables even if they look secret (NAME or PREFIX_*). Alone: pass all."),
        ("--deny-env", AccessKind.Env, Verdict.Deny, "Withhold these environment variables."),
    ];

    public static int Main(string[] args)
    {
        StartupTrace.Mark("main");
        return Run(args, new LazyConsoleWriter(() => Console.Out), new LazyConsoleWriter(() => Console.Error));
    }

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length > 0 && Verbs.Names.Contains(args[0]))
        {
            var (verbRoot, _) = CommandTree(output, error, full: true, isRun: false);
            var verbResult = verbRoot.Parse(args);
            if (verbResult.Errors.Count > 0)
            {
                error.WriteLine($"cordon: {UsageProblem(verbResult)} (see 'cordon {args[0]} --help')");
                return UsageError;
            }

            try
            {
                return verbResult.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
            }
            catch (Exception e) when (e is ProfileException or PolicyException or IOException or UnauthorizedAccessException)
            {
                error.WriteLine("cordon: " + Display.Escape(e.Message));
                return UsageError;
            }
        }

        // A run's launcher starts now, while this process reads its command line, profiles and environment (not for
        // help or the version, which run nothing).
        if (args.Length > 0 && !args.Contains("--help") && !args.Contains("-h") && !args.Contains("--version"))
        {
            Sandbox.ParkLauncher();
        }

        var optionalValue = new HashSet<string>(PermissionFlags.Length, StringComparer.Ordinal);
        foreach (var f in PermissionFlags)
        {
            optionalValue.Add(f.Flag);
        }

        bool isRun = args.Length > 0 && args[0] == "run";
        var rest = isRun ? args[1..] : args;
        var (options, program) = CommandSplit.Split(rest, optionalValue, new HashSet<string>(StringComparer.Ordinal) { "--prompt-timeout", "--profile", "--log", "--learn", "--engine", "--denied-exit" });
        var parseArgs = isRun ? ["run", .. options] : options;

        // A run parses its options with only the command it uses (every sandboxed command pays for building the
        // tree); help, --version and a usage problem get the whole tree, parsed again, for what they print.
        bool wantsHelp = options.Contains("--help") || options.Contains("-h") || options.Contains("-?");
        bool wantsVersion = options.Contains("--version");
        var (root, chosen) = CommandTree(output, error, full: false, isRun);
        var result = root.Parse(parseArgs);
        if (result.Errors.Count > 0 || wantsHelp || wantsVersion || program.Count == 0)
        {
            (root, chosen) = CommandTree(output, error, full: true, isRun);
            result = root.Parse(parseArgs);
        }

        if (result.Errors.Count > 0)
        {
            error.WriteLine($"cordon: {UsageProblem(result)} (see 'cordon --help')");
            return UsageError;
        }

        // `--allow-read . -- ls`: the flag was given alone (every read) and "." became the program. The "--" after it
        // shows what was meant; running "." with every read allowed is not it.
        int programStart = rest.Length - program.Count;
        string? bareFlag = programStart > 0 && optionalValue.Contains(rest[programStart - 1]) ? rest[programStart - 1] : null;
        if (bareFlag is not null && program.Count > 1 && program[1] == "--")
        {
            error.WriteLine($"cordon: {bareFlag} takes its value with '=': {bareFlag}={Display.Escape(program[0])} ({bareFlag} alone allows everything of its kind)");
            return UsageError;
        }

        if (wantsHelp || wantsVersion || program.Count == 0)
        {
            if (program.Count == 0 && !wantsHelp && !wantsVersion)
            {
                error.WriteLine("cordon: no program given: cordon run [OPTIONS] -- PROGRAM [ARGS...] (see 'cordon --help')");
                return UsageError;
            }

            return result.Invoke(new InvocationConfiguration { Output = output, Error = error });
        }

        StartupTrace.Mark("command line parsed");
        try
        {
            return RunProgram(result, chosen, program, error, NotFoundHint(program[0], isRun, bareFlag));
        }
        catch (PolicyException e)
        {
            error.WriteLine("cordon: " + Display.Escape(e.Message));
            return UsageError;
        }
        catch (ProfileException e)
        {
            error.WriteLine("cordon: " + Display.Escape(e.Message));
            return UsageError;
        }
        catch (SandboxException e)
        {
            error.WriteLine("cordon: " + Display.Escape(e.Message));
            return UsageError;
        }
    }

    /// <summary>
    /// The command tree: the root (a plain Command, not RootCommand, whose constructor looks its own name up by
    /// reflection: about 1.5 ms of every start in the native build) and `run`; with <paramref name="full"/> also help,
    /// --version, every verb and both commands' options, and without it only the options of the command the line
    /// uses (`run`'s when <paramref name="isRun"/>). Returns the root and the used command's options.
    /// </summary>
    private static (Command Root, RunOptions Chosen) CommandTree(TextWriter output, TextWriter error, bool full, bool isRun)
    {
        var root = new Command("cordon", RootDescription);
        if (full)
        {
            // Their descriptions come from System.CommandLine's resources, whose first use costs a run about 0.5 ms.
            root.Options.Add(new System.CommandLine.Help.HelpOption());
            root.Options.Add(new VersionOption());
        }

        var run = new Command("run", "Run a program under cordon (the default command).");
        RunOptions? rootOptions = full || !isRun ? AddRunOptions(root) : null;
        RunOptions? runOptions = full || isRun ? AddRunOptions(run) : null;
        root.Subcommands.Add(run);
        if (full)
        {
            foreach (var verb in Verbs.All(output, error))
            {
                root.Subcommands.Add(verb);
            }
        }

        // The actions only print help; programs run outside System.CommandLine's invocation (see RunProgram).
        root.SetAction(_ => 0);
        run.SetAction(_ => 0);
        return (root, (isRun ? runOptions : rootOptions)!);
    }

    private const string RootDescription = """
        cordon runs a program and everything it starts, and decides every file, program and network access they make.
        Nothing in your home directory is readable or writable unless you allow it; system files and programs are.

        Examples:
          cordon run --allow-read=. --allow-write=./build -- make
          cordon --allow-net=registry.npmjs.org:443 --allow-read=. --allow-write=. -- npm install
          cordon run -A -- ./script.sh            (allow everything, secret-looking variables included)

        Denied accesses fail with "permission denied" and cordon prints the flag that would allow each one.
        Exit status: the program's own; 125 when cordon failed, 126 when the program cannot run, 127 when not found.
        """;

    private sealed record RunOptions(
        Dictionary<string, Option<string[]>> Permissions,
        Option<bool> AllowAll,
        Option<bool> NoPrompt,
        Option<double?> PromptTimeout,
        Option<string?> Profile,
        Option<bool> NoSave,
        Option<string?> Log,
        Option<string?> Learn,
        Option<string> Engine,
        Option<int?> DeniedExit,
        Option<bool> NoBuiltins);

    private static RunOptions AddRunOptions(Command command)
    {
        var permissions = new Dictionary<string, Option<string[]>>();
        foreach (var (flag, _, _, help) in PermissionFlags)
        {
            var option = new Option<string[]>(flag)
            {
                Description = help,
                HelpName = flag.EndsWith("net", StringComparison.Ordinal) ? "HOST[:PORT],..." : flag.EndsWith("env", StringComparison.Ordinal) ? "NAME,..." : flag.EndsWith("run", StringComparison.Ordinal) ? "PROGRAM,..." : "PATH,...",
                Arity = ArgumentArity.OneOrMore,
            };
            command.Options.Add(option);
            permissions[flag] = option;
        }

        var allowAll = new Option<bool>("--allow-all", "-A") { Description = "Allow everything: reads, writes, programs, network, and every environment variable, secret-looking ones included." };
        var noPrompt = new Option<bool>("--no-prompt") { Description = "Never ask: deny whatever no rule allows (the default when there is no terminal)." };
        var promptTimeout = new Option<double?>("--prompt-timeout")
        {
            Description = "Deny a question nobody answers within SECONDS (denied once, never remembered).",
            HelpName = "SECONDS",
        };
        promptTimeout.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && !(double.TryParse(r.Tokens[^1].Value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v)))
            {
                r.AddError("--prompt-timeout: give a positive number of seconds");
            }
        });
        var profile = new Option<string?>("--profile")
        {
            Description = "Use this profile, and save answers there: a NAME in ~/.config/cordon/profiles, or a FILE. Default: this project's answers (see 'cordon profile show'), and the profile named after the program (npm, make, ...) if there is one.",
            HelpName = "NAME|FILE",
        };
        var noSave = new Option<bool>("--no-save") { Description = "Keep \"always\" and \"folder\" answers for this run only; do not add them to the profile." };
        var log = new Option<string?>("--log") { Description = "Append one JSON line per decision to FILE (see 'cordon log').", HelpName = "FILE" };
        var learn = new Option<string?>("--learn")
        {
            Description = "Learn mode: allow everything, record it, and write a minimal profile to FILE (adding to it if it exists).",
            HelpName = "FILE",
        };
        command.Options.Add(allowAll);
        command.Options.Add(noPrompt);
        command.Options.Add(promptTimeout);
        command.Options.Add(profile);
        command.Options.Add(noSave);
        command.Options.Add(log);
        var engine = new Option<string>("--engine")
        {
            Description = "view (any user: reads the rules allow are served by the kernel from a private view of the file system, the rest is asked), "
                + "seccomp (any user: every open is decided by cordon), lsm (root, Linux 6.12+ with BPF LSM; the program runs as the sudo user), "
                + "or auto: lsm for root where it can run, view for other users where it can run, else seccomp. The default is $CORDON_ENGINE, else auto. 'cordon doctor' says which.",
            HelpName = "auto|view|seccomp|lsm",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CORDON_ENGINE") is { Length: > 0 } e ? e : "auto",
        };
        engine.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } v && !Engines.Contains(v))
            {
                r.AddError(r.Tokens.Count == 0
                    ? $"CORDON_ENGINE: unknown engine '{v}' (choose auto, view, seccomp or lsm)"
                    : $"--engine: unknown engine '{v}' (choose auto, view, seccomp or lsm)");
            }
        });
        command.Options.Add(learn);
        command.Options.Add(engine);
        var deniedExit = new Option<int?>("--denied-exit")
        {
            Description = "Exit with status N (1-124) when cordon denied anything, whatever the program's own status (for CI). Default: the program's status.",
            HelpName = "N",
        };
        deniedExit.Validators.Add(r =>
        {
            // The tokens, not GetValueOrDefault: that throws on a value that is not a number.
            if (r.Tokens.Count > 0 && !(int.TryParse(r.Tokens[^1].Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int v) && v is >= 1 and <= 124))
            {
                r.AddError("--denied-exit: give a status from 1 to 124 (125-127 and 128+N are taken)");
            }
        });
        command.Options.Add(deniedExit);
        var noBuiltins = new Option<bool>("--no-builtins") { Description = "Do not apply the built-in sets (git, node, python, ...) for the tools the run starts ('cordon profile show' lists them)." };
        command.Options.Add(noBuiltins);
        return new RunOptions(permissions, allowAll, noPrompt, promptTimeout, profile, noSave, log, learn, engine, deniedExit, noBuiltins);
    }

    /// <summary>One line for a command line System.CommandLine refused, with the nearest verb or option when a word is mistyped.</summary>
    private static string UsageProblem(ParseResult result)
    {
        if (result.UnmatchedTokens.Count == 0)
        {
            return result.Errors[0].Message;
        }

        var token = result.UnmatchedTokens[0];
        var word = token.StartsWith('-') ? token.Split('=')[0] : token;
        var near = Suggest.Nearest(word, Suggest.Names(result.CommandResult.Command));
        var what = token.StartsWith('-') ? $"unknown option {Display.Escape(word)}" : $"unknown command or argument '{Display.Escape(token)}'";
        return near is null ? what : $"{what} (did you mean {near}?)";
    }

    /// <summary>What to add to "program not found" when the word was probably meant for cordon itself.</summary>
    private static string NotFoundHint(string word, bool isRun, string? bareFlag)
    {
        if (bareFlag is not null)
        {
            return $" (permission flags take their value with '=': {bareFlag}={Display.Escape(word)})";
        }

        // `cordon runn -- ls`: "run" is the default command, so a mistyped verb is taken for the program.
        return !isRun && !word.Contains('/') && Suggest.Nearest(word, Verbs.Names.Append("run")) is { } verb
            ? $" (did you mean 'cordon {verb}'?)"
            : "";
    }

    /// <summary>The environment question; "always" answers are saved as env rules naming exactly the variables shown.</summary>
    private static IReadOnlyDictionary<string, string> AskEnvironment(TerminalPrompter person, EnvResult filtered, Dictionary<string, string> environment, ChosenProfiles? saveTo, IPathResolver resolver, TextWriter messages)
    {
        var answer = person.AskEnvironmentAsync(filtered.Undecided, CancellationToken.None).GetAwaiter().GetResult();
        bool pass = answer is EnvironmentAnswer.PassOnce or EnvironmentAnswer.PassAlways;
        if (saveTo is not null && answer is EnvironmentAnswer.PassAlways or EnvironmentAnswer.WithholdAlways)
        {
            foreach (var name in filtered.Undecided)
            {
                var verdict = pass ? Verdict.Allow : Verdict.Deny;
                Profiles.SaveAnswer(saveTo, new Rule(AccessKind.Env, verdict, new EnvDescriptor(name), DecisionSource.Prompt, $"{FlagRules.FlagName(AccessKind.Env, verdict)}={name} (answered at the prompt)"), resolver, messages);
            }
        }

        if (!pass)
        {
            return filtered.Passed;
        }

        // These variables and no others: one a rule withholds (--deny-env) stays out whatever was answered here.
        var passed = new Dictionary<string, string>(filtered.Passed, StringComparer.Ordinal);
        foreach (var name in filtered.Undecided)
        {
            passed[name] = environment[name];
        }

        return passed;
    }

    private static int RunProgram(ParseResult result, RunOptions options, List<string> program, TextWriter error, string notFoundHint)
    {
        var resolver = SystemPathResolver.ForCurrentProcess();
        var userRules = new List<Rule>();
        bool allowAll = result.GetValue(options.AllowAll);
        foreach (var (flag, kind, verdict, _) in PermissionFlags)
        {
            // Only flags that were given: an absent one's default value is made by reflection (a run's start-up).
            var values = result.GetResult(options.Permissions[flag]) is null ? null : result.GetValue(options.Permissions[flag]);
            if (values is null)
            {
                continue;
            }

            foreach (var value in values)
            {
                userRules.AddRange(FlagRules.Parse(kind, verdict, value == CommandSplit.Everything ? null : value, resolver));
            }
        }

        if (allowAll)
        {
            foreach (var kind in Enum.GetValues<AccessKind>())
            {
                userRules.AddRange(FlagRules.Parse(kind, Verdict.Allow, null, resolver));
            }
        }

        var variables = Environment.GetEnvironmentVariables();
        var environment = new Dictionary<string, string>(variables.Count, StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in variables)
        {
            environment[(string)e.Key] = (string?)e.Value ?? "";
        }

        string? found = ProgramLocator.Find(program[0], environment.GetValueOrDefault("PATH"), resolver.WorkingDirectory);
        if (found is null)
        {
            error.WriteLine($"cordon: program not found: {Display.Escape(program[0])}{notFoundHint}");
            return NotFound;
        }

        if (Directory.Exists(found) || !ProgramLocator.IsExecutable(found))
        {
            error.WriteLine($"cordon: cannot run {Display.Escape(found)}: not an executable file{notFoundHint}");
            return CannotExecute;
        }

        string programPath = resolver.Canonicalize(found);
        var store = ProfileStore.ForUser(resolver.Home);
        var profiles = Profiles.Choose(store, result.GetValue(options.Profile), program[0], result.GetValue(options.Learn), resolver, error);
        userRules.AddRange(profiles.Rules);
        userRules.AddRange(Profiles.ProtectConfiguration(store, resolver));
        var envRules = userRules.Where(r => r.Kind == AccessKind.Env).ToList();
        var filtered = EnvironmentFilter.Filter(environment, envRules);

        // A person is asked only when there is one: stdin and stderr are a terminal and --no-prompt is absent.
        // In learn mode nobody is asked: everything is allowed and recorded. The program gets a pty of its own
        // whenever cordon is on a terminal, asking or not: it must not change the user's terminal (echo, window
        // size), write to its clipboard, or outlive cordon with the terminal in a state the shell does not expect.
        var learner = profiles.LearnPath is { } learnPath ? new Learner(learnPath, profiles.LearnBase!, resolver, envRules) : null;
        using var tty = TerminalProxy.TryCreate();
        using var unproxied = tty is null ? TerminalState.Save() : null;
        IPrompter? prompter = learner is not null ? learner : tty is null || result.GetValue(options.NoPrompt) ? null : new TerminalPrompter(tty);
        var messages = tty is null ? error : new ProxyMessageWriter(tty);
        tty?.Start();

        var passed = filtered.Passed;
        bool save = !result.GetValue(options.NoSave) && learner is null;
        if (filtered.Undecided.Count > 0)
        {
            // Only the variables no rule decided are asked about (a saved "always" answer is such a rule); one
            // withheld by a rule the user chose is not news.
            if (prompter is TerminalPrompter person)
            {
                passed = AskEnvironment(person, filtered, environment, save ? profiles : null, resolver, messages);
            }
            else
            {
                messages.WriteLine($"cordon: withheld environment variables that look secret: {string.Join(", ", filtered.Undecided.Select(Display.Escape))} (pass one with --allow-env=NAME)");
            }
        }

        string runTemp = Directory.CreateTempSubdirectory("cordon-").FullName;
        try
        {
            var env = new List<string>(passed.Count + 1);
            foreach (var (name, value) in passed)
            {
                if (name != "TMPDIR")
                {
                    env.Add($"{name}={value}");
                }
            }

            env.Add("TMPDIR=" + runTemp);
            var baseRules = BaseRules.For(new BaseContext(resolver.Home, runTemp, programPath) { UserTerminals = tty?.UserTerminals ?? [] });
            using var policy = new Policy.Policy(userRules.Where(r => r.Kind != AccessKind.Env), baseRules, prompter, resolver.Home)
            {
                PromptTimeout = result.GetValue(options.PromptTimeout) is double seconds ? TimeSpan.FromSeconds(seconds) : null,
                Project = resolver.WorkingDirectory,
                BurstWindow = learner is null ? Policy.Policy.DefaultBurstWindow : TimeSpan.Zero,
            };
            learner?.Attach(policy);
            if (save)
            {
                policy.RuleRemembered += rule => Profiles.SaveAnswer(profiles, rule, resolver, messages);
            }

            var builtins = result.GetValue(options.NoBuiltins) ? null : new BuiltInSets(policy, resolver);
            builtins?.ProgramRuns(programPath, program[0]);

            using var log = result.GetValue(options.Log) is { } logPath ? AuditLog.Open(logPath) : null;
            var denials = new DenialReporter(messages, interactive: prompter is not null);
            IDecisionObserver reporter = denials;
            if (log is not null)
            {
                reporter = new Observers(log, reporter);
            }

            if (learner is not null)
            {
                reporter = new Observers(learner, reporter);
            }

            if (builtins is not null)
            {
                reporter = new Observers(builtins, reporter); // first: a tool's set is in place before its exec is answered
            }

            StartupTrace.Mark("policy built");
            string engineName = result.GetValue(options.Engine) ?? "auto";
            bool root = Interop.Libc.GetEUid() == 0;
            // auto: as root the LSM engine where it starts, else the seccomp engine (with one line why, where that is
            // news); as anybody else the view where it can be built, else the seccomp engine, with one line why.
            using var lsm = engineName switch
            {
                "lsm" => LsmEngine.Start(policy, reporter),
                "auto" when root => LsmEngine.StartIfPossible(policy, reporter, why => messages.WriteLine($"cordon: {why}; using the seccomp engine")),
                _ => null,
            };
            ViewOptions? view = null;
            if (engineName == "view" || (engineName == "auto" && !root))
            {
                void FellBack(string why) => messages.WriteLine($"cordon: the view engine cannot run here: {why}; using the seccomp engine (--engine seccomp says nothing)");
                if (ViewAvailability.Unavailable() is { } why)
                {
                    if (engineName == "view")
                    {
                        throw new SandboxException("the view engine cannot run here: " + why + " (--engine seccomp works without it)");
                    }

                    FellBack(why);
                }
                else
                {
                    view = new ViewOptions { FallBack = engineName == "auto" ? FellBack : null, TrapReads = learner is not null || log is not null, Terminal = tty?.ProgramTerminal };
                }
            }

            StartupTrace.Mark("engine chosen");
            var runAs = lsm is null ? null : SystemPathResolver.SudoUser();
            if (runAs is var (uid, gid))
            {
                _ = Interop.Libc.Chown(runTemp, uid, gid); // the program's TMPDIR is the user's
                env.RemoveAll(e => e.StartsWith("HOME=", StringComparison.Ordinal));
                env.Add("HOME=" + resolver.Home); // and its home (sudo gave cordon root's)
            }

            int status;
            try
            {
                status = Sandbox.Run(new SandboxOptions
                {
                    JoinKernelSandbox = lsm is null ? null : lsm.Join,
                    RunAs = runAs,
                    ProgramPath = programPath,
                    Argv = program,
                    Environment = env,
                    Policy = policy,
                    Observer = reporter,
                    HandleSignals = true,
                    Stdio = tty?.ProgramDescriptors() ?? [],
                    ControllingTerminal = tty is not null,
                    Spawned = tty is null ? null : tty.ProgramStarted,
                    ProgramStarted = tty is null ? null : tty.SetProgramGroup,
                    ProgramStopped = tty is null ? null : _ => tty.Suspend(),
                    View = view,
                });
            }
            finally
            {
                tty?.Finish(TimeSpan.FromSeconds(2));
                learner?.Write(error);
                foreach (var repo in policy.Guard.RepositoriesCreated)
                {
                    error.WriteLine($"cordon: the program created a git repository at {Display.Escape(repo)}; its hooks and settings are its own: check them before you run git there");
                }
            }

            // Nobody watched the denials as they happened (CI, --no-prompt): end with what was denied.
            if (prompter is not TerminalPrompter && denials.Summary(status) is { } summary)
            {
                error.WriteLine(summary);
            }

            return denials.DeniedRequests > 0 && result.GetValue(options.DeniedExit) is int deniedExit ? deniedExit : status;
        }
        finally
        {
            try
            {
                Directory.Delete(runTemp, recursive: true);
            }
            catch (IOException)
            {
                // A program may leave files it cannot be asked to remove; the directory is in the system temp dir.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}

