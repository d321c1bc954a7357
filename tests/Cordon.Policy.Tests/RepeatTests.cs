using Cordon.Policy;
using Xunit;

namespace Cordon.Policy.Tests;

/// <summary>Questions asked again and again: the same request at once, siblings across folders.</summary>
public class RepeatTests
{
    private static Request Req(string resource, int pid = 42) =>
        new(AccessKind.Read, Operation.Read, resource, null, new Subject(new ProcessSummary(pid, "/usr/bin/x", ["x"]), pid, [], _ => false));

    private static Policy Build(IPrompter prompter, TimeSpan? repeat = null) =>
        new([], BaseRules.For(new BaseContext("/home/u", "/tmp/cordon-run", "/usr/bin/make")), prompter, "/home/u")
        {
            BurstWindow = TimeSpan.Zero,
            RepeatWindow = repeat ?? TimeSpan.FromSeconds(2),
        };

    private static Decision Decide(Policy p, Request r) => p.DecideAsync(r, CancellationToken.None).AsTask().Result;

    [Theory]
    [InlineData(PromptAnswer.AllowOnce, true)]
    [InlineData(PromptAnswer.DenyOnce, false)]
    public void The_same_request_from_the_same_process_just_after_a_once_answer_is_not_asked_again(PromptAnswer answer, bool allowed)
    {
        var prompter = new FakePrompter(answer);
        var p = Build(prompter);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(allowed, Decide(p, Req("/home/u/project")).Allowed);
        }

        Assert.Single(prompter.Asked);
        Assert.Null(p.Match(Req("/home/u/project"))); // still once: nothing became a rule
    }

    [Fact]
    public void Another_process_or_a_later_request_is_asked_again()
    {
        var prompter = new FakePrompter(PromptAnswer.AllowOnce);
        var p = Build(prompter, TimeSpan.FromMilliseconds(100));
        Decide(p, Req("/home/u/notes"));
        Decide(p, Req("/home/u/notes", pid: 43));
        Assert.Equal(2, prompter.Asked.Count);
        Thread.Sleep(250);
        Decide(p, Req("/home/u/notes"));
        Assert.Equal(3, prompter.Asked.Count);
    }

    [Fact]
    public void Siblings_that_differ_in_one_folder_fold_into_a_pattern_question()
    {
        var prompter = new FakePrompter(PromptAnswer.DenyOnce, PromptAnswer.DenyOnce, PromptAnswer.AllowFolder);
        var p = Build(prompter);
        for (int pid = 1; pid <= 89; pid++)
        {
            Decide(p, Req($"/proc/{pid}/stat"));
        }

        Assert.Equal(3, prompter.Asked.Count);
        Assert.Null(prompter.Asked[1].Flood);
        Assert.Equal("/proc/*/stat", prompter.Asked[2].SuggestedFolder);
        Assert.NotNull(prompter.Asked[2].Flood);
        Assert.True(p.Match(Req("/proc/4242/stat"))?.Allowed);
        Assert.Null(p.Match(Req("/proc/4242/environ")));
    }

    [Fact]
    public void Sibling_patterns_never_reach_a_credentials_place()
    {
        var prompter = new FakePrompter(PromptAnswer.DenyOnce);
        var p = Build(prompter);
        foreach (var dir in new[] { "a", "b", "c", "d" })
        {
            Decide(p, Req($"/home/u/{dir}/config"));
        }

        Assert.All(prompter.Asked, q => Assert.False(q.SuggestedFolder?.Contains('*', StringComparison.Ordinal) == true, q.SuggestedFolder));
    }
}

public class NetDisplayTests
{
    private static Request Send(NetTarget t) => new(AccessKind.Net, Operation.Send, t.Display, null, Subject.Unknown(1), t);

    private static readonly NetTarget Resolver =
        new(System.Net.IPAddress.Parse("10.255.255.53"), 53, [], null, "inet") { Role = "the system's DNS server", SystemResolver = true };

    [Fact]
    public void The_systems_dns_server_is_named_and_its_rule_is_the_word_dns_not_the_address()
    {
        Assert.Equal("the system's DNS server (10.255.255.53:53)", Resolver.Display);
        var r = Send(Resolver);
        Assert.Equal("--allow-net=dns", Policy.SuggestFlag(r));
        Assert.Equal("dns", Policy.Exact(r).Text);
        Assert.Equal("--allow-net=dns", Policy.SuggestFlag(Send(Resolver with { Names = ["a.test", "b.test"] })));
        Assert.Equal("resolver:53 (10.255.255.53)", (Resolver with { Names = ["resolver"] }).Display); // a looked-up name says more

        // The role alone is for people: an address that is not the system's server is its address.
        var other = new NetTarget(System.Net.IPAddress.Parse("10.255.255.53"), 53, [], null, "inet") { Role = "the system's DNS server" };
        Assert.Equal("10.255.255.53:53", Policy.Exact(Send(other)).Text);
    }

    [Fact]
    public void Dns_matches_the_systems_servers_on_port_53_whatever_their_address_and_nothing_else()
    {
        var dns = Assert.Single(NetDescriptor.Parse("dns"));
        Assert.True(dns.Matches(Send(Resolver)));
        Assert.True(dns.Matches(Send(Resolver with { Address = System.Net.IPAddress.Parse("192.168.1.1") })));
        Assert.True(dns.Matches(Send(Resolver with { Address = System.Net.IPAddress.IPv6Loopback })));
        Assert.False(dns.Matches(Send(Resolver with { SystemResolver = false })));
        Assert.False(dns.Matches(Send(Resolver with { Port = 853 })));
        Assert.False(dns.Matches(Send(new NetTarget(System.Net.IPAddress.Parse("8.8.8.8"), 53, ["dns"], null, "inet"))));
        Assert.Throws<PolicyException>(() => NetDescriptor.Parse("dns:53"));

        // A deny of the address still wins over dns (more specific or equal, and a deny wins a tie).
        var p = new Policy([.. FlagRules.Parse(AccessKind.Net, Verdict.Allow, "dns", new FakeResolver()), .. FlagRules.Parse(AccessKind.Net, Verdict.Deny, "10.255.255.53:53", new FakeResolver())], [], null);
        Assert.False(p.Match(Send(Resolver))?.Allowed);
        var allowed = new Policy(FlagRules.Parse(AccessKind.Net, Verdict.Allow, "dns", new FakeResolver()), [], null);
        Assert.True(allowed.Match(Send(Resolver))?.Allowed);
    }

    [Fact]
    public async Task Always_on_the_systems_dns_server_saves_dns()
    {
        var p = new Policy([], [], new FakePrompter(PromptAnswer.AllowAlways)) { BurstWindow = TimeSpan.Zero };
        Assert.True((await p.DecideAsync(Send(Resolver), CancellationToken.None)).Allowed);
        Assert.Equal("dns", Assert.Single(p.UserRules).Descriptor.Text);
        Assert.True(p.Match(Send(Resolver with { Address = System.Net.IPAddress.Parse("192.168.1.1") }))?.Allowed);
    }
}

public class LocalListenTests
{
    private static Request Net(Operation op, string ip, int port) =>
        new(AccessKind.Net, op, $"{ip}:{port}", null, new Subject(new ProcessSummary(42, "/usr/bin/node", ["node"]), 42, [], _ => false),
            new NetTarget(System.Net.IPAddress.Parse(ip), port, [], null, "inet"));

    [Fact]
    public async Task A_listen_on_a_random_local_port_offers_every_local_port_for_listening_only()
    {
        var prompter = new FakePrompter(PromptAnswer.AllowFolder);
        var p = new Policy([], [], prompter, "/home/u") { BurstWindow = TimeSpan.Zero };
        Assert.True((await p.DecideAsync(Net(Operation.Listen, "127.0.0.1", 40123), CancellationToken.None)).Allowed);
        Assert.Equal(LocalListenDescriptor.Value, prompter.Asked[0].SuggestedFolder);
        Assert.True(p.Match(Net(Operation.Listen, "127.0.0.1", 39001))?.Allowed);
        Assert.True(p.Match(Net(Operation.Bind, "::1", 39002))?.Allowed);
        Assert.Null(p.Match(Net(Operation.Connect, "127.0.0.1", 5432))); // never a connect to a local service
        Assert.Null(p.Match(Net(Operation.Listen, "0.0.0.0", 8080))); // nor a listen open to the network
        Assert.Null(p.SuggestFolder(Net(Operation.Listen, "0.0.0.0", 8080)));
        Assert.Equal(LocalListenDescriptor.Value, Assert.Single(p.UserRules).Descriptor.Text);
        Assert.IsType<LocalListenDescriptor>(Assert.Single(FlagRules.Parse(AccessKind.Net, Verdict.Allow, "listen:localhost", new FakeResolver())).Descriptor);
    }
}
