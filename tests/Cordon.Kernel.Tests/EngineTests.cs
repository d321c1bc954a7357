using System.Diagnostics;
using Cordon.Policy;
using Cordon.Supervisor;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>The engine used as a library: decisions that take a person's time, and what the observer is told.</summary>
public sealed class EngineTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private sealed class SlowPrompter(TimeSpan delay, PromptAnswer answer) : IPrompter
    {
        public int Asked;
        public readonly List<string> Questions = [];

        public async Task<PromptAnswer> AskAsync(PromptQuestion question, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Asked);
            lock (Questions)
            {
                Questions.Add($"{question.Request.Kind} {question.Request.Resource}");
            }

            await Task.Delay(delay, cancellationToken);
            return answer;
        }
    }

    private sealed class Recorder : IDecisionObserver
    {
        public readonly List<(Request Request, Decision Decision)> Decisions = [];
        public readonly List<string> Incidents = [];

        public void OnDecision(Request request, Decision decision)
        {
            lock (Decisions)
            {
                Decisions.Add((request, decision));
            }
        }

        public void OnIncident(string message)
        {
            lock (Incidents)
            {
                Incidents.Add(message);
            }
        }
    }

    private int Run(IPrompter prompter, Recorder recorder, params string[] argv)
    {
        var resolver = new SystemPathResolver(s.Home, s.Work, Sandboxed.SystemPath);
        var program = resolver.FindProgram(argv[0])!;
        var rules = FlagRules.Parse(AccessKind.Write, Verdict.Allow, s.Work, resolver)
            .Concat(FlagRules.Parse(AccessKind.Read, Verdict.Allow, s.Work, resolver));
        var policy = new Policy.Policy(rules, BaseRules.For(new BaseContext(s.Home, null, resolver.Canonicalize(program))), prompter);
        return Sandbox.Run(new SandboxOptions
        {
            ProgramPath = program,
            Argv = argv,
            Environment = ["PATH=/usr/bin:/bin", "HOME=" + s.Home, "LANG=C"],
            Policy = policy,
            Observer = recorder,
        });
    }

    [Fact]
    public void A_decision_that_arrives_seconds_later_lets_the_call_complete()
    {
        var prompter = new SlowPrompter(TimeSpan.FromSeconds(2), PromptAnswer.AllowOnce);
        var recorder = new Recorder();
        var sw = Stopwatch.StartNew();
        int status = Run(prompter, recorder, "sh", "-c", $"cat {s.Secret} > {s.Work}/copy");
        Assert.Equal(0, status);
        Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(2));
        Assert.Contains(s.Marker, File.ReadAllText(Path.Combine(s.Work, "copy")), StringComparison.Ordinal);
        Assert.Contains(recorder.Decisions, d => d.Request.Resource == s.Secret && d.Decision is { Allowed: true, Source: DecisionSource.Prompt });
    }

    [Fact]
    public void A_slow_decision_under_a_signal_storm_neither_livelocks_nor_connects_twice()
    {
        // kernel-facts.md: without WAIT_KILLABLE_RECV a thread receiving a signal every 200 ms while the decision
        // takes a second restarts the call forever. With it, the call completes once.
        var script = $$"""
            import signal, time
            n = [0]
            def tick(*a): n[0] += 1
            signal.signal(signal.SIGALRM, tick)
            signal.setitimer(signal.ITIMER_REAL, 0.2, 0.2)
            data = open('{{s.Secret}}').read()
            signal.setitimer(signal.ITIMER_REAL, 0)
            open('{{s.Work}}/result', 'w').write('ok %d' % (len(data) > 0))
            """;
        var prompter = new SlowPrompter(TimeSpan.FromSeconds(1), PromptAnswer.AllowOnce);
        var recorder = new Recorder();
        int status = Run(prompter, recorder, "python3", "-c", script);
        Assert.Equal(0, status);
        Assert.Equal("ok 1", File.ReadAllText(Path.Combine(s.Work, "result")));
        // Once: a restarted call would be decided (and, for a connect, performed) twice.
        Assert.True(prompter.Questions.Count(q => q.EndsWith(s.Secret, StringComparison.Ordinal)) == 1, string.Join("\n", prompter.Questions));
    }

    [Fact]
    public void A_denied_request_reaches_the_observer_with_the_process_that_asked()
    {
        var recorder = new Recorder();
        int status = Run(new SlowPrompter(TimeSpan.Zero, PromptAnswer.DenyOnce), recorder, "cat", s.Secret);
        Assert.NotEqual(0, status);
        var denied = Assert.Single(recorder.Decisions, d => d.Request.Resource == s.Secret);
        Assert.False(denied.Decision.Allowed);
        Assert.Equal("/usr/bin/cat", denied.Request.Subject.Process.Exe);
        Assert.Equal(AccessKind.Read, denied.Request.Kind);
    }
}
