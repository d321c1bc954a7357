using Cordon.Policy;
using Xunit;

namespace Cordon.Policy.Tests;

/// <summary>Questions to a person: which folder is offered, coalescing, floods, time-outs, withdrawn questions.</summary>
public class PromptQueueTests
{
    private static Request Req(AccessKind kind, string resource, int pid = 42) =>
        new(kind, kind == AccessKind.Write ? Operation.Write : Operation.Read, resource, null,
            new Subject(new ProcessSummary(pid, "/usr/bin/x", ["x"]), pid, [], _ => false));

    private static Policy Build(IEnumerable<Rule> user, IPrompter? prompter = null) =>
        new(user, BaseRules.For(new BaseContext("/home/u", "/tmp/cordon-run", "/usr/bin/make")), prompter, "/home/u");

    [Theory]
    [InlineData("/home/u/project/node_modules/x/index.js", "/home/u/project")]
    [InlineData("/home/u/.npm/_cacache/index-v5/ab/cd", "/home/u/.npm")]
    [InlineData("/home/u/.npm", "/home/u/.npm")]
    [InlineData("/home/u/.cache/pip/http/a/b", "/home/u/.cache/pip")]
    [InlineData("/home/u/.cache/x", "/home/u/.cache")]
    [InlineData("/home/u/other/a.txt", "/home/u/other")]
    public void The_folder_offered_is_the_project_or_the_tools_cache(string resource, string expected)
    {
        var p = new Policy([], [], new FakePrompter(), "/home/u") { Project = "/home/u/project" };
        Assert.Equal(expected, p.SuggestFolder(Req(AccessKind.Read, resource)));
    }

    [Fact]
    public void The_project_is_never_offered_when_it_is_the_home_directory()
    {
        var p = new Policy([], [], new FakePrompter(), "/home/u") { Project = "/home/u" };
        Assert.Null(p.SuggestFolder(Req(AccessKind.Read, "/home/u/a.txt")));
    }

    [Fact]
    public async Task Identical_requests_waiting_together_share_one_question_even_when_answered_once()
    {
        var prompter = new FakePrompter(PromptAnswer.AllowOnce) { Gate = new TaskCompletionSource() };
        var p = Build([], prompter);
        var asks = Enumerable.Range(0, 8).Select(i => p.DecideAsync(Req(AccessKind.Read, "/home/u/x", pid: 100 + i), CancellationToken.None).AsTask()).ToList();
        await Task.Delay(50);
        prompter.Gate.SetResult();
        var decisions = await Task.WhenAll(asks);
        Assert.All(decisions, d => Assert.True(d.Allowed));
        Assert.Single(prompter.Asked);

        // Once is once: a later request for the same file is asked again.
        Assert.True((await p.DecideAsync(Req(AccessKind.Read, "/home/u/x"), CancellationToken.None)).Allowed);
        Assert.Equal(2, prompter.Asked.Count);
    }

    [Fact]
    public async Task A_flood_of_distinct_paths_in_one_folder_becomes_a_folder_question()
    {
        var prompter = new FakePrompter(PromptAnswer.DenyOnce, PromptAnswer.DenyOnce, PromptAnswer.DenyOnce, PromptAnswer.AllowFolder);
        var p = Build([], prompter);
        for (int i = 0; i < 3; i++)
        {
            Assert.False((await p.DecideAsync(Req(AccessKind.Read, $"/home/u/data/f{i}"), CancellationToken.None)).Allowed);
        }

        Assert.All(prompter.Asked, q => Assert.Null(q.Flood));
        Assert.True((await p.DecideAsync(Req(AccessKind.Read, "/home/u/data/f3"), CancellationToken.None)).Allowed);
        Assert.NotNull(prompter.Asked[3].Flood);
        Assert.Equal(4, prompter.Asked[3].Flood!.Asked);

        // The folder answer covers the next thousand files without a question.
        for (int i = 4; i < 1000; i++)
        {
            Assert.True((await p.DecideAsync(Req(AccessKind.Read, $"/home/u/data/f{i}"), CancellationToken.None)).Allowed);
        }

        Assert.Equal(4, prompter.Asked.Count);
    }

    [Fact]
    public async Task Many_distinct_requests_waiting_at_once_make_the_question_about_the_folder()
    {
        var prompter = new FakePrompter(PromptAnswer.AllowFolder) { Gate = new TaskCompletionSource() };
        var p = Build([], prompter);
        var asks = Enumerable.Range(0, 50).Select(i => p.DecideAsync(Req(AccessKind.Read, $"/home/u/data/f{i}"), CancellationToken.None).AsTask()).ToList();
        await Task.Delay(100);
        prompter.Gate.SetResult();
        var decisions = await Task.WhenAll(asks);
        Assert.All(decisions, d => Assert.True(d.Allowed));
        Assert.Single(prompter.Asked);
        Assert.NotNull(prompter.Asked[0].Flood);
        Assert.True(prompter.Asked[0].Flood!.Waiting >= Policy.FloodThreshold - 1);
    }

    [Fact]
    public async Task A_deny_folder_answer_denies_the_folder_for_the_run()
    {
        var prompter = new FakePrompter(PromptAnswer.DenyFolder);
        var p = Build([], prompter);
        Assert.False((await p.DecideAsync(Req(AccessKind.Read, "/home/u/data/a"), CancellationToken.None)).Allowed);
        var later = await p.DecideAsync(Req(AccessKind.Read, "/home/u/data/sub/b"), CancellationToken.None);
        Assert.False(later.Allowed);
        Assert.Equal(DecisionSource.Prompt, later.Source);
        Assert.Single(prompter.Asked);
    }

    private sealed class SilentPrompter : IPrompter
    {
        public int Asked;

        public async Task<PromptAnswer> AskAsync(PromptQuestion question, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Asked);
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return PromptAnswer.AllowAlways;
        }
    }

    [Fact]
    public async Task An_unanswered_prompt_is_denied_after_the_timeout_and_not_remembered()
    {
        var prompter = new SilentPrompter();
        var p = new Policy([], [], prompter, "/home/u") { PromptTimeout = TimeSpan.FromMilliseconds(100) };
        var d = await p.DecideAsync(Req(AccessKind.Read, "/home/u/x"), CancellationToken.None);
        Assert.False(d.Allowed);
        Assert.Equal(DecisionSource.Default, d.Source);
        Assert.Contains("no answer", d.Rule, StringComparison.Ordinal);
        Assert.Empty(p.UserRules);
        _ = await p.DecideAsync(Req(AccessKind.Read, "/home/u/x"), CancellationToken.None);
        Assert.Equal(2, prompter.Asked);
    }

    [Fact]
    public async Task A_question_whose_asker_went_away_is_withdrawn_and_others_waiting_for_it_ask_again()
    {
        var prompter = new SilentPrompter();
        var p = new Policy([], [], prompter, "/home/u");
        using var gone = new CancellationTokenSource();
        var first = p.DecideAsync(Req(AccessKind.Read, "/home/u/x", pid: 1), gone.Token).AsTask();
        await Task.Delay(50);
        using var second = new CancellationTokenSource();
        var other = p.DecideAsync(Req(AccessKind.Read, "/home/u/x", pid: 2), second.Token).AsTask();
        await Task.Delay(50);
        await gone.CancelAsync();
        var d = await first;
        Assert.False(d.Allowed);
        Assert.Equal(DecisionSource.Error, d.Source);
        await Task.Delay(100);
        Assert.False(other.IsCompleted);
        Assert.Equal(2, prompter.Asked); // the second asker got its own question
        await second.CancelAsync();
        Assert.False((await other).Allowed);
    }
}
