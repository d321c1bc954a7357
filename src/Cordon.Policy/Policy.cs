using System.Collections.Concurrent;

namespace Cordon.Policy;

/// <summary>
/// Decides requests: user rules first (flags, profiles, remembered answers), where the most specific matching rule
/// wins and a deny wins a tie; then cordon's base rules the same way; then a person, through the prompter. Without a
/// prompter (no terminal, --no-prompt) what no rule allows is denied. Thread-safe: the engine calls it from many
/// threads; answers from rules come back synchronously and without allocation.
/// </summary>
public sealed class Policy : IDisposable
{
    private static readonly Decision NoPrompter = new(Verdict.Deny, DecisionSource.Default, "no rule allows it and nobody can be asked");

    private static readonly Decision NotTheUsers = new(Verdict.Deny, DecisionSource.Base, "base: system files are granted only where the user could read them without cordon");

    private readonly Lock gate = new();
    private readonly Rule[][] baseRules;
    private readonly IPrompter? prompter;
    private readonly string? home;
    private readonly SemaphoreSlim promptTurn = new(1, 1);
    private readonly ConcurrentDictionary<(AccessKind, string), Decision?> cache = new();
    private readonly Lock pendingGate = new();
    private readonly Dictionary<(AccessKind, string), TaskCompletionSource<Decision>> pending = [];
    private readonly Dictionary<(AccessKind, string), int> askedPerFolder = [];
    private readonly Dictionary<(AccessKind, string, int), (Decision Decision, long At)> answeredOnce = [];
    private readonly List<(AccessKind Kind, string Resource)> askedRecently = [];
    private Rule[][] userRules;

    // Bumped with every change of userRules (under gate): a decision made from older rules is not cached.
    private long rulesGeneration;

    /// <summary>Answer given to requests whose asker went away (process gone) while they waited for a prompt.</summary>
    private static readonly Decision Withdrawn = new(Verdict.Deny, DecisionSource.Error, "the process stopped waiting for an answer");

    /// <param name="prompter">Who to ask when no rule decides; null: deny instead.</param>
    /// <param name="home">The user's home, so that prompts never offer it (or a place in it full of secrets) as a folder.</param>
    public Policy(IEnumerable<Rule> userRules, IEnumerable<Rule> baseRules, IPrompter? prompter, string? home = null)
    {
        this.userRules = ByKind(userRules);
        this.baseRules = ByKind(baseRules);
        this.prompter = prompter;
        this.home = home?.TrimEnd('/');
        Guard = new OutsideCodeGuard(this.home);
    }

    /// <summary>The guard on files that run code outside the sandbox; the engine tells it which folders the run created.</summary>
    public OutsideCodeGuard Guard { get; }

    /// <summary>Unanswered prompts are denied (once, never remembered) after this long; null: wait for ever.</summary>
    public TimeSpan? PromptTimeout { get; init; }

    /// <summary>The project directory (where cordon was started), offered as the folder for requests below it.</summary>
    public string? Project { get; init; }

    /// <summary>
    /// After this many questions about one folder, or with this many distinct requests for it waiting, the question
    /// is asked about the folder: a flood of paths becomes one folder-level decision, not thousands of prompts.
    /// </summary>
    public const int FloodThreshold = 3;

    public static readonly TimeSpan DefaultBurstWindow = TimeSpan.FromMilliseconds(25);

    /// <summary>How long a question waits for a burst of requests to queue up (zero for a prompter that is not a person).</summary>
    public TimeSpan BurstWindow { get; init; } = DefaultBurstWindow;

    /// <summary>
    /// A "once" answer also answers the same request from the same process this soon after it: vim opening "."
    /// four times in a row is one question, not four.
    /// </summary>
    public TimeSpan RepeatWindow { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How many recent questions sibling folding looks back on (see <see cref="Siblings"/>).</summary>
    private const int SiblingMemory = 64;

    /// <summary>Raised when a prompt answer became a rule for the rest of the run (profiles save it).</summary>
    public event Action<Rule>? RuleRemembered;

    /// <summary>Raised after rules were added for the rest of the run (an answer, a built-in set), outside any lock.</summary>
    public event Action? RulesChanged;

    public IReadOnlyList<Rule> UserRules
    {
        get
        {
            lock (gate)
            {
                return userRules.SelectMany(r => r).ToList();
            }
        }
    }

    private static Rule[][] ByKind(IEnumerable<Rule> rules)
    {
        // Loops: every run builds these, and reflection over the enum and chained operators cost start-up time in
        // the native build.
        var byKind = new List<Rule>[(int)AccessKind.Env + 1]; // Env is the last kind (a test checks)
        for (int k = 0; k < byKind.Length; k++)
        {
            byKind[k] = [];
        }

        foreach (var r in rules)
        {
            byKind[(int)r.Kind].Add(r);
        }

        return Array.ConvertAll(byKind, l => l.ToArray());
    }

    public ValueTask<Decision> DecideAsync(Request request, CancellationToken cancellationToken)
    {
        var decided = Match(request);
        if (decided is not null)
        {
            return new ValueTask<Decision>(decided);
        }

        return prompter is null ? new ValueTask<Decision>(NoPrompter) : new ValueTask<Decision>(CoalescedAsync(request, cancellationToken));
    }

    /// <summary>
    /// Identical requests (same kind and resource) waiting at the same time share one question and its answer, so
    /// that eight threads opening one file see one prompt. A request whose asker went away does not take the others'
    /// answer with it: they ask again.
    /// </summary>
    private async Task<Decision> CoalescedAsync(Request request, CancellationToken cancellationToken)
    {
        while (true)
        {
            var key = (request.Kind, request.Resource);
            TaskCompletionSource<Decision>? shared;
            bool mine = false;
            lock (pendingGate)
            {
                if (!pending.TryGetValue(key, out shared))
                {
                    shared = new TaskCompletionSource<Decision>(TaskCreationOptions.RunContinuationsAsynchronously);
                    pending[key] = shared;
                    mine = true;
                }
            }

            if (mine)
            {
                Decision answer;
                try
                {
                    answer = await AskAsync(request, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    answer = e is OperationCanceledException ? Withdrawn : Decision.Error("the prompt failed: " + e.Message);
                }
                finally
                {
                    lock (pendingGate)
                    {
                        pending.Remove(key);
                    }
                }

                shared.SetResult(answer);
                return answer;
            }

            Decision decision;
            try
            {
                decision = await shared.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return Withdrawn;
            }

            if (!ReferenceEquals(decision, Withdrawn))
            {
                return decision;
            }
        }
    }

    /// <summary>The decision the rules give, or null when they give none.</summary>
    public Decision? Match(Request request)
    {
        // Only answers that depend on the resource alone are cached: rules on /proc/PID depend on who asks (is PID in
        // the sandbox?) and net rules on the names the sandbox resolved to the address. Opens are the hot path.
        // Nor are writes to the guard's names: its answer depends on what the run created and on mkdir or not.
        // Nor mkdirs: a folder on the way to an allowed one may be made (below), which a file of that name may not.
        bool cacheable = request.Kind is AccessKind.Read or AccessKind.Write or AccessKind.Run
            && !request.MakesDirectory
            && !request.Resource.StartsWith("/proc/", StringComparison.Ordinal)
            && !(request.Kind == AccessKind.Write && Guard.Find(request.Resource) is not null)
            && !request.UnreadableByUser;
        var key = (request.Kind, request.Resource);
        if (cacheable && cache.TryGetValue(key, out var known))
        {
            return known;
        }

        Rule[][] user;
        long generation;
        lock (gate)
        {
            user = userRules;
            generation = rulesGeneration;
        }

        var userRule = Best(user[(int)request.Kind], request);
        if (userRule is { Verdict: Verdict.Allow, Kind: AccessKind.Write } && !cacheable && Guard.Check(request.Resource, request.MakesDirectory) is { } hit
            && !OutsideCodeGuard.NamesPlace(userRule, hit.Root))
        {
            // A user rule allows it, but not by naming it: ask, or deny when nobody can be asked.
            return prompter is null ? OutsideCodeGuard.Denial(hit) : null;
        }

        var baseRule = userRule is null ? Best(baseRules[(int)request.Kind], request) : null;
        if (baseRule is { Verdict: Verdict.Allow, AsUser: true } && request.UnreadableByUser)
        {
            // The base rules grant what the user could read without cordon, not what root can.
            return prompter is null ? NotTheUsers : null;
        }

        var decision = userRule?.Decision ?? baseRule?.Decision;
        if (decision is null && request is { Kind: AccessKind.Write, MakesDirectory: true } && OnTheWay(user[(int)AccessKind.Write], request.Resource) is { } toward
            && Guard.Check(request.Resource, directory: true) is null)
        {
            // mkdir -p of an allowed folder (~/.m2/repository on a machine without ~/.m2): an empty folder above it.
            decision = new Decision(Verdict.Allow, toward.Source, toward.Text + " (a folder on the way to it)");
        }

        if (cacheable)
        {
            lock (gate)
            {
                // Rules added since they were read (a "deny always" on another thread) cleared the cache: an answer
                // from the old rules must not go back in, or it would outlive them.
                if (generation == rulesGeneration)
                {
                    cache[key] = decision;
                }
            }
        }

        return decision;
    }

    /// <summary>
    /// The verdict the rules give every path at or below <paramref name="folder"/> (a canonical path) for requests of
    /// <paramref name="kind"/>, or null when they may give different verdicts there, or none (a person would be asked).
    /// Conservative: null whenever a rule might decide part of the tree differently. The LSM engine stores an allow
    /// for such a folder in the kernel, which then decides every file below it without asking cordon.
    /// Only for path rules (read, write, run): a rule that depends on who asks promises nothing.
    /// </summary>
    /// <param name="asRoot">cordon runs as root: a base grant that stands for the user (<see cref="Rule.AsUser"/>)
    /// promises nothing about a whole tree, because it allows only the files the user could read.</param>
    public Verdict? FolderVerdict(AccessKind kind, string folder, bool asRoot = false)
    {
        if (kind is not (AccessKind.Read or AccessKind.Write or AccessKind.Run) || !folder.StartsWith('/'))
        {
            return null;
        }

        Rule[][] user;
        lock (gate)
        {
            user = userRules;
        }

        // The guard asks about its names below a folder the user allowed for writing (see Match): no promise there.
        Verdict? Guarded(Verdict? v) =>
            v == Verdict.Allow && kind == AccessKind.Write && OutsideCodeGuard.MayApplyWithin(folder) ? null : v;

        var (reached, verdict, userBy, partial) = Uniform(user[(int)kind], folder);
        if (reached && userBy is not null)
        {
            return Guarded(verdict); // a user rule covers the whole tree: base rules decide nothing in it
        }

        var (_, baseVerdict, by, _) = Uniform(baseRules[(int)kind], folder);
        if (baseVerdict == Verdict.Allow && asRoot && by is { AsUser: true })
        {
            return null;
        }

        if (!reached)
        {
            return baseVerdict;
        }

        // User rules cover parts of the tree (`--allow-read=/usr/include` inside the base rules' /usr) and the base
        // rules the rest: one verdict when both give the same one everywhere (the tree is not split for nothing).
        return partial is { } same && same == baseVerdict ? Guarded(same) : null;
    }

    /// <summary>Whether a rule allows every path of <paramref name="kind"/> (`--allow-read` with no value, `A`), perhaps but for some.</summary>
    public bool AllowsAnyPath(AccessKind kind)
    {
        Rule[][] user;
        lock (gate)
        {
            user = userRules;
        }

        return user[(int)kind].Concat(baseRules[(int)kind]).Any(r => r.Verdict == Verdict.Allow && r.Descriptor is AnyDescriptor or AllButSensitiveDescriptor);
    }

    /// <summary>
    /// The folders allow rules name (not globs), by kind, and "/" (everything, for a kind allowed without a path):
    /// where <see cref="FolderVerdict"/> may grant a whole tree.
    /// </summary>
    public IReadOnlyList<(AccessKind Kind, string Folder)> FolderCandidates()
    {
        Rule[][] user;
        lock (gate)
        {
            user = userRules;
        }

        // Loops, not chained operators: the view's plan asks at every start (see BuiltIn.For).
        AccessKind[] kinds = [AccessKind.Read, AccessKind.Write, AccessKind.Run];
        var seen = new HashSet<(AccessKind, string)>();
        var found = new List<(AccessKind Kind, string Folder)>();
        foreach (var k in kinds)
        {
            if (seen.Add((k, "/")))
            {
                found.Add((k, "/"));
            }
        }

        foreach (var k in kinds)
        {
            foreach (var r in user[(int)k].Concat(baseRules[(int)k]))
            {
                if (r.Verdict == Verdict.Allow && r.Descriptor is PathDescriptor { IsGlob: false } p && seen.Add((r.Kind, p.Path)))
                {
                    found.Add((r.Kind, p.Path));
                }
            }
        }

        return found;
    }

    /// <summary>
    /// What <paramref name="rules"/> give the tree at <paramref name="folder"/>: Reached when a rule covers any of
    /// it; By the rule that covers all of it (the one that wins there) and Verdict its answer when no partial rule
    /// overrides it; with no such rule, Partial is the one verdict every partial rule gives, if they agree.
    /// </summary>
    private static (bool Reached, Verdict? Verdict, Rule? By, Verdict? Partial) Uniform(Rule[] rules, string folder)
    {
        Rule? best = null;
        List<Rule>? partial = null;
        foreach (var rule in rules)
        {
            switch (rule.Descriptor.Within(folder))
            {
                case Reach.All when best is null || Beats(rule, best):
                    best = rule;
                    break;
                case Reach.Some:
                    (partial ??= []).Add(rule);
                    break;
            }
        }

        if (best is null)
        {
            // Paths nothing covers fall to the next rules; paths a partial rule covers are decided by it.
            Verdict? agreed = partial is not null && partial.All(r => r.Verdict == partial[0].Verdict) ? partial[0].Verdict : null;
            return (partial is not null, null, null, agreed);
        }

        // Every path of the tree matches best (and perhaps more): a partial rule changes the verdict only where it
        // would beat best with the other verdict.
        bool uniform = partial is null || partial.All(r => r.Verdict == best.Verdict || !Beats(r, best));
        return (true, uniform ? best.Verdict : null, best, null);
    }

    /// <summary>Whether <paramref name="a"/> wins over <paramref name="b"/> when both match (the rule of <see cref="Best"/>).</summary>
    private static bool Beats(Rule a, Rule b) =>
        a.Descriptor.Specificity > b.Descriptor.Specificity || (a.Descriptor.Specificity == b.Descriptor.Specificity && a.Verdict == Verdict.Deny && b.Verdict != Verdict.Deny);

    /// <summary>A rule that allows writing a folder strictly below <paramref name="folder"/> (named, not a glob), if any.</summary>
    private static Rule? OnTheWay(Rule[] writeRules, string folder)
    {
        foreach (var rule in writeRules)
        {
            if (rule is { Verdict: Verdict.Allow, Descriptor: PathDescriptor { IsGlob: false } p } && p.Path.Length > folder.Length + 1
                && p.Path[folder.Length] == '/' && p.Path.StartsWith(folder, StringComparison.Ordinal))
            {
                return rule;
            }
        }

        return null;
    }

    private static Rule? Best(Rule[] rules, Request request)
    {
        Rule? best = null;
        int bestScore = -1;
        foreach (var rule in rules)
        {
            if (!rule.Descriptor.Matches(request))
            {
                continue;
            }

            int score = rule.Descriptor.Specificity;
            if (score > bestScore || (score == bestScore && rule.Verdict == Verdict.Deny))
            {
                best = rule;
                bestScore = score;
            }
        }

        return best;
    }

    private async Task<Decision> AskAsync(Request request, CancellationToken cancellationToken)
    {
        // One question at a time. After waiting for the turn, look again: an answer given meanwhile ("always",
        // "this folder") may already cover this request, and then nobody is asked twice.
        await promptTurn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var meanwhile = Match(request) ?? AnsweredJustNow(request);
            if (meanwhile is not null)
            {
                return meanwhile;
            }

            // Requests that come in a burst (parallel builds, thread pools) arrive within milliseconds of each other:
            // let them queue up first, so that the question can say the folder is being flooded.
            if (BurstWindow > TimeSpan.Zero)
            {
                await Task.Delay(BurstWindow, cancellationToken).ConfigureAwait(false);
            }

            string? folder = SuggestFolder(request);
            var flood = Flood(request, folder);
            var siblingFlood = Siblings(request);
            if (flood is null && siblingFlood is var (pattern, siblings))
            {
                folder = pattern;
                flood = new FloodInfo(siblings + 1, 0);
            }

            var question = new PromptQuestion(request, folder, flood, request.Kind == AccessKind.Write ? Guard.Find(request.Resource)?.What : null);
            using var timeout = PromptTimeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (PromptTimeout is { } limit)
            {
                timeout!.CancelAfter(limit);
            }

            PromptAnswer answer;
            try
            {
                answer = await prompter!.AskAsync(question, timeout?.Token ?? cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && timeout is not null && timeout.IsCancellationRequested)
            {
                return new Decision(Verdict.Deny, DecisionSource.Default, $"no answer within {PromptTimeout!.Value.TotalSeconds:0.#} s (--prompt-timeout)");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The prompter gave up by itself (its terminal went away): nobody can answer.
                return Decision.Error("the question could not be shown or answered");
            }

            var decision = Record(request, answer, folder);
            if (answer is PromptAnswer.AllowOnce or PromptAnswer.DenyOnce)
            {
                lock (pendingGate)
                {
                    answeredOnce[(request.Kind, request.Resource, request.Subject.Process.Pid)] = (decision, Environment.TickCount64);
                }
            }

            return decision;
        }
        finally
        {
            promptTurn.Release();
        }
    }

    /// <summary>The "once" answer this process got for this very request within <see cref="RepeatWindow"/>, if any.</summary>
    private Decision? AnsweredJustNow(Request request)
    {
        lock (pendingGate)
        {
            long now = Environment.TickCount64;
            foreach (var stale in answeredOnce.Where(e => now - e.Value.At > (long)RepeatWindow.TotalMilliseconds).Select(e => e.Key).ToList())
            {
                answeredOnce.Remove(stale);
            }

            return answeredOnce.TryGetValue((request.Kind, request.Resource, request.Subject.Process.Pid), out var recent)
                ? recent.Decision with { Rule = recent.Decision.Rule + " (the same request again, just after)" }
                : null;
        }
    }

    /// <summary>
    /// Requests that differ from earlier questions in one folder component only (/proc/1/stat, /proc/2/stat, ...)
    /// are a flood too, across folders: from the third, the question offers the pattern (/proc/*/stat) as its
    /// folder. Never a pattern that could reach a credentials place (its fixed part must be safe to grant), never
    /// one whose first component varies.
    /// </summary>
    private (string Pattern, int Asked)? Siblings(Request request)
    {
        var resource = request.Resource;
        if (request.Kind is not (AccessKind.Read or AccessKind.Write) || !resource.StartsWith('/') || Glob.IsPattern(resource) || IsSensitive(resource, request.Kind))
        {
            return null;
        }

        var segs = resource.Split('/');
        var counts = new int[segs.Length];
        lock (pendingGate)
        {
            foreach (var (kind, earlier) in askedRecently)
            {
                if (kind != request.Kind || SoleDifference(segs, earlier.Split('/')) is not int i)
                {
                    continue;
                }

                counts[i]++;
            }

            askedRecently.Add((request.Kind, resource));
            if (askedRecently.Count > SiblingMemory)
            {
                askedRecently.RemoveAt(0);
            }
        }

        for (int i = 2; i < segs.Length - 1; i++)
        {
            if (counts[i] >= FloodThreshold - 1 && !Sensitive.Reachable(home, string.Join('/', segs[..i])))
            {
                var pattern = (string[])segs.Clone();
                pattern[i] = "*";
                return (string.Join('/', pattern), counts[i]);
            }
        }

        return null;
    }

    /// <summary>The one index at which two paths of the same depth differ, or null.</summary>
    private static int? SoleDifference(string[] a, string[] b)
    {
        if (a.Length != b.Length)
        {
            return null;
        }

        int? found = null;
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i])
            {
                if (found is not null)
                {
                    return null;
                }

                found = i;
            }
        }

        return found;
    }

    /// <summary>How crowded this folder's questions are: null while it is not (see <see cref="FloodThreshold"/>).</summary>
    private FloodInfo? Flood(Request request, string? folder)
    {
        if (folder is null)
        {
            return null;
        }

        var key = (request.Kind, folder);
        int waiting = 0;
        lock (pendingGate)
        {
            foreach (var (k, _) in pending)
            {
                if (k.Item1 == request.Kind && k.Item2 != request.Resource && k.Item2.StartsWith(folder + "/", StringComparison.Ordinal))
                {
                    waiting++;
                }
            }

            int asked = askedPerFolder.GetValueOrDefault(key);
            askedPerFolder[key] = asked + 1;
            return asked >= FloodThreshold || waiting >= FloodThreshold - 1 ? new FloodInfo(asked + 1, waiting) : null;
        }
    }

    private Decision Record(Request request, PromptAnswer answer, string? folder)
    {
        if (answer is PromptAnswer.AllowOnce or PromptAnswer.DenyOnce)
        {
            return answer == PromptAnswer.AllowOnce
                ? new Decision(Verdict.Allow, DecisionSource.Prompt, "allowed once at the prompt")
                : new Decision(Verdict.Deny, DecisionSource.Prompt, "denied once at the prompt");
        }

        if (!Enum.IsDefined(answer))
        {
            return Decision.Error("unknown answer " + answer);
        }

        var verdict = answer is PromptAnswer.AllowAlways or PromptAnswer.AllowFolder or PromptAnswer.AllowKind ? Verdict.Allow : Verdict.Deny;
        IReadOnlyList<Descriptor> descriptors = answer switch
        {
            // "All reads" means all but the credentials places: those still get their own question.
            PromptAnswer.AllowKind when request.Kind is AccessKind.Read or AccessKind.Write or AccessKind.Run => [new AllButSensitiveDescriptor(home)],
            PromptAnswer.AllowKind => [new AnyDescriptor()],
            PromptAnswer.AllowFolder or PromptAnswer.DenyFolder when folder == LocalListenDescriptor.Value => [new LocalListenDescriptor()],
            PromptAnswer.AllowFolder or PromptAnswer.DenyFolder when folder is not null => [new PathDescriptor(folder)],
            // An address several looked-up names share: the answer covers every name the question showed, and no
            // other (a rule per name, so that each also covers that name's other addresses).
            _ when request.Net is { Names.Count: > 1, SystemResolver: false } named =>
                named.Names.Select(n => NetDescriptor.Parse(named.Port > 0 ? $"{n}:{named.Port}" : n)[0]).ToList(),
            _ => [Remembered(request)],
        };
        var rules = descriptors.Select(d => Remembered(request, verdict, d)).ToList();
        foreach (var rule in rules)
        {
            Add(rule);
        }

        return rules[0].Decision;
    }

    private static Rule Remembered(Request request, Verdict verdict, Descriptor descriptor)
    {
        string flag = FlagRules.FlagName(request.Kind, verdict);
        return new Rule(request.Kind, verdict, descriptor, DecisionSource.Prompt, descriptor switch
        {
            AnyDescriptor => $"{flag} (answered at the prompt)",
            AllButSensitiveDescriptor => $"{flag} except credentials places (answered at the prompt)",
            _ => $"{flag}={descriptor.Text} (answered at the prompt)",
        });
    }

    /// <summary>
    /// What "always" (allow or deny) remembers: the resource as the person saw it. A path usually covers what lies
    /// below it, but for a listing, and for a folder no single answer may open (the home directory, a folder with
    /// credentials inside, "/", /opt), it is that path alone: listing a directory is not reading its files.
    /// </summary>
    private Descriptor Remembered(Request request) =>
        request.Kind is AccessKind.Read or AccessKind.Write && request.Resource.StartsWith('/')
            && (request.Operation == Operation.List || !SafeToGrant(request.Resource))
            ? new ExactPathDescriptor(request.Resource)
            : Exact(request);

    /// <summary>Adds a user rule for the rest of the run.</summary>
    public void Add(Rule rule)
    {
        Apply([rule]);
        RuleRemembered?.Invoke(rule);
    }

    /// <summary>
    /// Adds rules for the rest of the run that are nobody's answer (a built-in set whose tool started): nothing is
    /// remembered or saved. Rules already there are not added twice.
    /// </summary>
    public void Apply(IReadOnlyList<Rule> rules)
    {
        lock (gate)
        {
            var copy = userRules.Select(r => r).ToArray();
            foreach (var rule in rules.Where(r => !copy[(int)r.Kind].Contains(r)))
            {
                copy[(int)rule.Kind] = [.. copy[(int)rule.Kind], rule];
            }

            userRules = copy;
            rulesGeneration++;
            cache.Clear();
        }

        RulesChanged?.Invoke();
    }

    /// <summary>A descriptor for exactly the requested resource.</summary>
    public static Descriptor Exact(Request request) => request.Kind switch
    {
        AccessKind.Read or AccessKind.Write => new PathDescriptor(request.Resource),
        AccessKind.Run => new ProgramDescriptor(request.Resource),
        AccessKind.Env => new EnvDescriptor(request.Resource),
        _ => NetDescriptor.Parse(ExactNet(request))[0],
    };

    private static string ExactNet(Request request)
    {
        var t = request.Net;
        if (t?.UnixPath is { } unix)
        {
            return "unix:" + unix;
        }

        if (t is { SystemResolver: true })
        {
            // The machine's DNS server: saved as what it is, so that the profile still holds on another network.
            return NetDescriptor.SystemDns;
        }

        if (t is { Names.Count: > 0 })
        {
            // A looked-up name: what the person saw and means. (Several names: Record adds one rule per name.)
            return t.Port > 0 ? $"{t.Names[0]}:{t.Port}" : t.Names[0];
        }

        if (t?.Address is { } address)
        {
            var host = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
            return t.Port > 0 ? $"{host}:{t.Port}" : host;
        }

        return request.Resource;
    }

    public void Dispose() => promptTurn.Dispose();

    /// <summary>The flag that would allow this request next time, e.g. --allow-read=/home/u/x.</summary>
    public static string SuggestFlag(Request request)
    {
        string flag = FlagRules.FlagName(request.Kind, Verdict.Allow);
        if (request.Kind == AccessKind.Net && request.Net is { Address: null, UnixPath: null } t)
        {
            return $"{flag} (a {t.Family} socket: only --allow-net with no value allows it)";
        }

        if (request.Net is { Names.Count: > 1, SystemResolver: false } named)
        {
            return flag + "=" + string.Join(',', named.Names.Select(n => named.Port > 0 ? $"{n}:{named.Port}" : n));
        }

        return flag + "=" + Exact(request).Text;
    }

    /// <summary>
    /// The folder a prompt may offer to grant: the project, a tool's cache, else the directory listed (for a listing)
    /// or the resource's directory; never "/" or a folder right below it (/opt, /var), never the home directory or
    /// anything above it, and never a place that holds credentials or shell start-up files, or a folder with one
    /// inside (~/.config holds ~/.config/gh).
    /// </summary>
    public string? SuggestFolder(Request request)
    {
        // A listen on a random port: "any port on localhost" is the answer that spares the next question.
        if (request.Kind == AccessKind.Net && new LocalListenDescriptor().Matches(request))
        {
            return LocalListenDescriptor.Value;
        }

        if (request.Kind is not (AccessKind.Read or AccessKind.Write) || !request.Resource.StartsWith('/'))
        {
            return null;
        }

        if (IsSensitive(request.Resource))
        {
            return null;
        }

        if (request.Kind == AccessKind.Write && Guard.Find(request.Resource) is { } guarded)
        {
            // A place of the home directory (`pip install --user`, `npm install -g` into ~/.local): the place itself,
            // named, is the one folder offered; a rule that names it lifts the guard there, as the question says.
            return guarded.Home && request.Resource.Length > guarded.Root.Length ? guarded.Root : null;
        }

        if (Project is { Length: > 1 } project && request.Resource.StartsWith(project + "/", StringComparison.Ordinal) && SafeToGrant(project))
        {
            return project;
        }

        if (CacheRoot(request.Resource) is { } cache)
        {
            return cache;
        }

        int slash = request.Resource.LastIndexOf('/');
        var folder = request.Operation == Operation.List ? request.Resource : slash <= 0 ? "/" : request.Resource[..slash];
        return SafeToGrant(folder) ? folder : null;
    }

    /// <summary>Whether <paramref name="path"/> is the user's home or lies below it.</summary>
    public bool InHome(string path) => home is not null && Descriptor.InTree(home, path);

    /// <summary>Whether a folder's whole tree may be granted by one answer (see <see cref="SuggestFolder"/>).</summary>
    public bool SafeToGrant(string folder) => !Sensitive.IsTopLevel(folder) && !Sensitive.Reachable(home, folder);

    /// <summary>Tool caches in the home: one grant for the whole cache is what a person means by "this folder".</summary>
    private static readonly string[] Caches =
    [
        ".npm", ".cache/*", ".cargo/registry", ".cargo/git", ".m2", ".gradle", ".nuget/packages", ".local/share/pnpm",
        ".yarn", ".bun/install", ".rustup", ".pyenv", ".nvm",
    ];

    private string? CacheRoot(string path)
    {
        if (home is null || !path.StartsWith(home + "/", StringComparison.Ordinal))
        {
            return null;
        }

        var inHome = path[(home.Length + 1)..];
        foreach (var c in Caches)
        {
            if (c.EndsWith("/*", StringComparison.Ordinal))
            {
                // ~/.cache/NAME: the tool's own cache, not all of ~/.cache.
                var parent = c[..^2];
                if (inHome.StartsWith(parent + "/", StringComparison.Ordinal))
                {
                    var rest = inHome[(parent.Length + 1)..];
                    int cut = rest.IndexOf('/');
                    return cut > 0 ? $"{home}/{parent}/{rest[..cut]}" : null;
                }
            }
            else if (inHome == c || inHome.StartsWith(c + "/", StringComparison.Ordinal))
            {
                return $"{home}/{c}";
            }
        }

        return null;
    }

    /// <summary>True for paths in or at the places that hold credentials or shell start-up files (<see cref="Sensitive"/>), and the guard's names.</summary>
    public bool IsSensitive(string path) => OutsideCodeGuard.FindName(path) is not null || Sensitive.Contains(home, path);

    /// <summary>
    /// <see cref="IsSensitive(string)"/>, and for a write also the guard's places in the home directory (`~/.local/bin`,
    /// `~/.gitconfig`): reading them is ordinary (node from `~/.nvm`), writing them is code for later.
    /// </summary>
    public bool IsSensitive(string path, AccessKind kind) =>
        IsSensitive(path) || (kind == AccessKind.Write && Guard.Find(path) is not null);
}
