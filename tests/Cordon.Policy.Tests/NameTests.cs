using System.Net;
using Cordon.Policy;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Cordon.Policy.Tests;

/// <summary>Host names: the DNS query reader, name rules, and what "always" remembers for an address with several names.</summary>
public class NameTests
{
    [Fact]
    public void The_questions_of_a_query_are_read()
    {
        var q = DnsWire.Query(0x1234, ("Registry.NPMjs.org", DnsWire.TypeA), ("registry.npmjs.org", DnsWire.TypeAAAA));
        var questions = DnsWire.Questions(q);
        Assert.Equal([new DnsQuestion("registry.npmjs.org", 1), new DnsQuestion("registry.npmjs.org", 28)], questions);
    }

    [Fact]
    public void Responses_and_malformed_messages_give_no_questions()
    {
        var q = DnsWire.Query(1, ("a.example", 1));
        var response = (byte[])q.Clone();
        response[2] |= 0x80;
        Assert.Empty(DnsWire.Questions(response));
        Assert.Empty(DnsWire.Questions(q.AsSpan(0, q.Length - 3)));
        Assert.Empty(DnsWire.Questions([1, 2, 3]));
        var pointer = (byte[])q.Clone();
        pointer[12] = 0xc0;
        Assert.Empty(DnsWire.Questions(pointer));
    }

    [Property(MaxTest = 500)]
    public Property Any_bytes_parse_without_throwing() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes => DnsWire.Questions(bytes ?? []).Count >= 0);

    private static Request Connect(string ip, int port, params string[] names) =>
        new(AccessKind.Net, Operation.Connect, new NetTarget(IPAddress.Parse(ip), port, names, null, "inet").Display, null, Subject.Unknown(1),
            new NetTarget(IPAddress.Parse(ip), port, names, null, "inet"));

    [Fact]
    public void A_name_rule_matches_addresses_looked_up_by_that_name_only()
    {
        var rules = FlagRules.Parse(AccessKind.Net, Verdict.Allow, "*.npmjs.org:443", new FakeResolver());
        var p = new Policy(rules, [], null, "/home/u");
        Assert.True(p.Match(Connect("104.16.1.1", 443, "registry.npmjs.org"))!.Allowed);
        Assert.Null(p.Match(Connect("104.16.1.1", 443)));
        Assert.Null(p.Match(Connect("104.16.1.1", 80, "registry.npmjs.org")));
        Assert.Null(p.Match(Connect("104.16.1.1", 443, "npmjs.org.evil.example")));
    }

    [Fact]
    public void The_display_and_the_flag_name_every_name_of_a_shared_address()
    {
        var r = Connect("127.0.0.4", 8080, "a.test", "b.test");
        Assert.Equal("a.test, b.test:8080 (127.0.0.4)", r.Resource);
        Assert.Equal("--allow-net=a.test:8080,b.test:8080", Policy.SuggestFlag(r));
        Assert.Equal("--allow-net=a.test:8080", Policy.SuggestFlag(Connect("127.0.0.4", 8080, "a.test")));
    }

    [Fact]
    public async Task Always_for_a_shared_address_remembers_exactly_the_names_shown()
    {
        var p = new Policy([], [], new FakePrompter(PromptAnswer.AllowAlways), "/home/u");
        Assert.True((await p.DecideAsync(Connect("127.0.0.4", 8080, "a.test", "b.test"), CancellationToken.None)).Allowed);
        Assert.Equal(2, p.UserRules.Count);
        Assert.True(p.Match(Connect("10.0.0.9", 8080, "b.test"))!.Allowed);
        Assert.Null(p.Match(Connect("10.0.0.9", 8080, "c.test")));
        Assert.Null(p.Match(Connect("127.0.0.4", 8080)));
    }
}
