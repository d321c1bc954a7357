using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// Network decisions by host name, with real clients and real servers and no outside network: each test runs in a
/// fresh user + network + mount namespace (unshare -rmn, no root needed) whose /etc/resolv.conf points at a small
/// DNS server the test starts on 127.0.0.1:53, next to an HTTP server on port 8080 (IPv4 and IPv6).
/// </summary>
public sealed class DnsTests : IDisposable
{
    private const string DnsServer = """
        import socket, sys
        RECORDS = {"allowed.test": ["127.0.0.2"], "evil.test": ["127.0.0.3"], "shared-a.test": ["127.0.0.4"],
                   "shared-b.test": ["127.0.0.4"], "six.test": ["::1"]}
        log = open(sys.argv[1], "a", buffering=1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((sys.argv[2], 53))
        print("dns ready", flush=True)
        while True:
            data, addr = s.recvfrom(4096)
            i, labels = 12, []
            while data[i]:
                n = data[i]; labels.append(data[i + 1:i + 1 + n].decode().lower()); i += 1 + n
            name, qtype, end = ".".join(labels), int.from_bytes(data[i + 1:i + 3], "big"), i + 5
            log.write(f"{name} {qtype}\n")
            answers = []
            for a in RECORDS.get(name, []):
                if ":" in a and qtype == 28: answers.append(socket.inet_pton(socket.AF_INET6, a))
                if ":" not in a and qtype == 1: answers.append(socket.inet_aton(a))
            flags = 0x8180 | (0 if name in RECORDS else 3)
            out = data[:2] + flags.to_bytes(2, "big") + b"\x00\x01" + len(answers).to_bytes(2, "big") + b"\x00\x00\x00\x00" + data[12:end]
            for rd in answers:
                out += b"\xc0\x0c" + (28 if len(rd) == 16 else 1).to_bytes(2, "big") + b"\x00\x01" + (60).to_bytes(4, "big") + len(rd).to_bytes(2, "big") + rd
            s.sendto(out, addr)
        """;

    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private RunResult InNetwork(string cordonArgs) => InNetwork(s, cordonArgs);

    /// <summary>
    /// Runs `cordon ARGS` inside a test network whose resolver (/etc/resolv.conf, and the test DNS server, which logs
    /// every question to Root/queries.log) is at <paramref name="resolver"/>; returns cordon's result.
    /// </summary>
    internal static RunResult InNetwork(Sandboxed s, string cordonArgs, string resolver = "127.0.0.1")
    {
        var dns = Path.Combine(s.Root, "dns.py");
        File.WriteAllText(dns, DnsServer);
        var www = Path.Combine(s.Root, "www");
        Directory.CreateDirectory(www);
        File.WriteAllText(Path.Combine(www, "ok.txt"), "hello over http\n");
        File.WriteAllText(Path.Combine(s.Root, "resolv.conf"), $"nameserver {resolver}\noptions timeout:2 attempts:1\n");
        var script = $"""
            set -e
            ip link set lo up
            mount --bind '{s.Root}/resolv.conf' /etc/resolv.conf
            python3 '{dns}' '{s.Root}/queries.log' '{resolver}' > '{s.Root}/dns.out' 2>&1 &
            dns_pid=$!
            python3 -m http.server 8080 --bind :: --directory '{www}' > /dev/null 2>&1 &
            http_pid=$!
            for i in $(seq 1 50); do grep -q ready '{s.Root}/dns.out' 2>/dev/null && python3 -c 'import socket; socket.create_connection(("127.0.0.1", 8080)).close()' 2>/dev/null && break; sleep 0.1; done
            cd '{s.Work}'
            set +e
            {Sandboxed.CordonShell} {cordonArgs}
            rc=$?
            kill $dns_pid $http_pid 2>/dev/null
            exit $rc
            """;
        var psi = new ProcessStartInfo("unshare", ["-rmn", "sh", "-c", script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.Environment["HOME"] = s.Home;
        psi.Environment["PATH"] = Sandboxed.SystemPath;
        psi.Environment["LANG"] = "C.UTF-8";
        psi.Environment["XDG_CONFIG_HOME"] = Path.Combine(s.Home, ".config");
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("timed out\n" + stdout.Result + stderr.Result);
        }

        p.WaitForExit();
        return new RunResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    private const string Dns = "--allow-net=127.0.0.1:53";

    [Fact]
    public void Getent_resolves_through_the_test_server_and_cordon_learns_nothing_it_should_not()
    {
        var r = InNetwork($"run --no-prompt {Dns} -- getent hosts allowed.test");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("127.0.0.2", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("allowed.test A", File.ReadAllText(Path.Combine(s.Root, "queries.log")).Replace(" 1", " A", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Curl_reaches_an_allowed_name_and_a_denied_name_is_shown_by_name()
    {
        var ok = InNetwork($"run --no-prompt {Dns} --allow-net=allowed.test:8080 -- curl -sS http://allowed.test:8080/ok.txt");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("hello over http", ok.Stdout, StringComparison.Ordinal);

        var denied = InNetwork($"run --no-prompt {Dns} --allow-net=allowed.test:8080 -- curl -sS http://evil.test:8080/ok.txt");
        Assert.NotEqual(0, denied.ExitCode);
        Assert.DoesNotContain("hello over http", denied.Stdout, StringComparison.Ordinal);
        Assert.Contains("evil.test:8080 (127.0.0.3)", denied.Stderr, StringComparison.Ordinal);
        Assert.Contains("--allow-net=evil.test:8080", denied.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Python_urllib_and_sockets_follow_name_rules_for_tcp_and_udp()
    {
        var script = s.WorkFile("client.py", """
            import socket, sys, urllib.request
            print(urllib.request.urlopen("http://allowed.test:8080/ok.txt", timeout=10).read().decode().strip())
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.sendto(b"ping", ("allowed.test", 9999))
            print("udp to allowed.test sent")
            try:
                u.sendto(b"ping", ("evil.test", 9999))
                print("udp to evil.test sent")
            except OSError as e:
                print("udp to evil.test:", e.errno)
            try:
                socket.create_connection(("evil.test", 8080), timeout=5)
                print("tcp to evil.test connected")
            except OSError as e:
                print("tcp to evil.test:", e.errno)
            """);
        var r = InNetwork($"run --no-prompt --allow-read={s.Work} {Dns} --allow-net=allowed.test -- python3 {script}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("hello over http", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("udp to allowed.test sent", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("udp to evil.test: 13", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("tcp to evil.test: 13", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_fetch_follows_name_rules()
    {
        var script = s.WorkFile("client.js", """
            (async () => {
              const ok = await fetch('http://allowed.test:8080/ok.txt');
              console.log('allowed: ' + (await ok.text()).trim());
              try { await fetch('http://evil.test:8080/ok.txt'); console.log('evil fetched'); }
              catch (e) { console.log('evil: ' + (e.cause && e.cause.code)); }
            })();
            """);
        var r = InNetwork($"run --no-prompt --allow-read={s.Work} {Dns} --allow-net=allowed.test:8080 -- node {script}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("allowed: hello over http", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("evil: EACCES", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Ipv6_names_are_decided_too()
    {
        var r = InNetwork($"run --no-prompt {Dns} --allow-net=six.test:8080 -- curl -6 -sS http://six.test:8080/ok.txt");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("hello over http", r.Stdout, StringComparison.Ordinal);
        var denied = InNetwork($"run --no-prompt {Dns} -- curl -6 -sS http://six.test:8080/ok.txt");
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("six.test:8080 ([::1])", denied.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Names_sharing_an_address_are_all_shown_and_the_log_has_names()
    {
        var script = s.WorkFile("both.py", """
            import socket
            socket.getaddrinfo("shared-a.test", 8080, socket.AF_INET)
            try:
                socket.create_connection(("shared-b.test", 8080), timeout=5)
                print("connected")
            except OSError as e:
                print("denied", e.errno)
            """);
        var log = Path.Combine(s.Root, "audit.jsonl");
        var r = InNetwork($"run --no-prompt --log {log} --allow-read={s.Work} {Dns} -- python3 {script}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("denied 13", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("shared-a.test, shared-b.test:8080 (127.0.0.4)", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("--allow-net=shared-a.test:8080,shared-b.test:8080", r.Stderr, StringComparison.Ordinal);
        var values = File.ReadAllLines(log).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("value").GetString()).ToList();
        Assert.Contains("shared-a.test, shared-b.test:8080 (127.0.0.4)", values);
    }

    [Fact]
    public void Icmp_from_a_raw_socket_is_decided_like_any_datagram()
    {
        // Root in the test's own user namespace may open raw sockets in its network namespace: the program does too.
        var script = s.WorkFile("ping.py", """
            import socket, struct, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
            body = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"cordon"
            csum = sum(struct.unpack("!%dH" % (len(body) // 2), body)); csum = (csum >> 16) + (csum & 0xffff); csum = ~(csum + (csum >> 16)) & 0xffff
            body = body[:2] + struct.pack("!H", csum) + body[4:]
            try:
                s.sendto(body, ("127.0.0.1", 0))
            except OSError as e:
                print("icmp denied", e.errno); sys.exit(0)
            s.settimeout(5)
            # On loopback a raw socket also sees its own echo request (type 8) before the reply (type 0).
            types = [s.recvfrom(1024)[0][20] for _ in range(2)]
            print("icmp reply" if 0 in types else "icmp no reply %s" % types)
            """);
        var denied = InNetwork($"run --no-prompt --allow-read={s.Work} -- python3 {script}");
        Assert.True(denied.ExitCode == 0, denied.ToString());
        Assert.Contains("icmp denied 13", denied.Stdout, StringComparison.Ordinal);
        Assert.Contains("--allow-net=127.0.0.1", denied.Stderr, StringComparison.Ordinal);

        var allowed = InNetwork($"run --no-prompt --allow-read={s.Work} --allow-net=127.0.0.1 -- python3 {script}");
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        Assert.Contains("icmp reply", allowed.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_rule_never_covers_an_address_nobody_looked_up_by_that_name()
    {
        // The program connects to evil.test's address directly, never asking DNS for it: the rule for allowed.test
        // must not help, and the address is shown as it is.
        var r = InNetwork($"run --no-prompt {Dns} --allow-net=allowed.test:8080 -- curl -sS http://127.0.0.3:8080/ok.txt");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("127.0.0.3:8080", r.Stderr, StringComparison.Ordinal);
    }
}
