using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// Network decisions with real clients (python3, node) against real servers the test runs on loopback: what no
/// rule allows never reaches the server, and the flag named in the denial line lets the same call through.
/// </summary>
public sealed class NetTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private const string TcpClient = """
        import socket, sys
        family = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
        c = socket.socket(family, socket.SOCK_STREAM)
        try:
            c.connect((sys.argv[1], int(sys.argv[2])))
        except OSError as e:
            print("connect failed:", e.errno)
            sys.exit(3)
        c.sendall(b"ping")
        print("reply:", c.recv(100).decode())
        """;

    /// <summary>A one-shot TCP server: answers "pong" to whatever it gets and records it.</summary>
    private sealed class Server : IDisposable
    {
        private readonly TcpListener listener;
        private readonly Task<string?> received;

        public Server(IPAddress address)
        {
            listener = new TcpListener(address, 0);
            listener.Start();
            received = Task.Run(async () =>
            {
                try
                {
                    using var client = await listener.AcceptTcpClientAsync();
                    var stream = client.GetStream();
                    var buffer = new byte[100];
                    var n = await stream.ReadAsync(buffer);
                    await stream.WriteAsync("pong"u8.ToArray());
                    return Encoding.ASCII.GetString(buffer, 0, n);
                }
                catch (SocketException)
                {
                    return null;
                }
                catch (ObjectDisposedException)
                {
                    return null;
                }
            });
        }

        public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

        /// <summary>What a client sent, or null when nobody connected within the wait.</summary>
        public string? Received(TimeSpan wait)
        {
            if (!received.Wait(wait))
            {
                return null;
            }

            return received.Result;
        }

        public void Dispose() => listener.Stop();
    }

    private RunResult RunTcp(string script, string host, int port, params string[] flags)
    {
        var file = s.WorkFile("client.py", script);
        return s.Cordon(["run", "--allow-read=" + s.Work, .. flags, "--", "python3", file, host, port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
    }

    [Fact]
    public void A_tcp_connect_no_rule_allows_never_reaches_the_server_and_names_the_flag()
    {
        using var server = new Server(IPAddress.Loopback);
        var r = RunTcp(TcpClient, "127.0.0.1", server.Port);
        Assert.True(r.ExitCode == 3, r.ToString());
        Assert.Contains("connect failed: 13", r.Stdout, StringComparison.Ordinal);
        Assert.Contains($"--allow-net=127.0.0.1:{server.Port}", r.Stderr, StringComparison.Ordinal);
        Assert.Null(server.Received(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public void A_tcp_connect_allowed_by_flag_talks_to_the_server()
    {
        using var server = new Server(IPAddress.Loopback);
        var r = RunTcp(TcpClient, "127.0.0.1", server.Port, $"--allow-net=127.0.0.1:{server.Port}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("reply: pong", r.Stdout, StringComparison.Ordinal);
        Assert.Equal("ping", server.Received(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void A_grant_for_another_port_does_not_cover_this_one()
    {
        using var server = new Server(IPAddress.Loopback);
        var r = RunTcp(TcpClient, "127.0.0.1", server.Port, $"--allow-net=127.0.0.1:{(server.Port == 1 ? 2 : server.Port - 1)}");
        Assert.True(r.ExitCode == 3, r.ToString());
        Assert.Null(server.Received(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public void Ipv6_loopback_is_decided_too()
    {
        if (!Socket.OSSupportsIPv6)
        {
            Assert.Fail("this machine has no IPv6; the IPv6 path cannot be tested here");
        }

        using (var server = new Server(IPAddress.IPv6Loopback))
        {
            var denied = RunTcp(TcpClient, "::1", server.Port);
            Assert.True(denied.ExitCode == 3, denied.ToString());
            Assert.Contains($"[::1]:{server.Port}", denied.Stderr, StringComparison.Ordinal);
            Assert.Null(server.Received(TimeSpan.FromMilliseconds(300)));
        }

        using (var server = new Server(IPAddress.IPv6Loopback))
        {
            var allowed = RunTcp(TcpClient, "::1", server.Port, $"--allow-net=[::1]:{server.Port}");
            Assert.True(allowed.ExitCode == 0, allowed.ToString());
            Assert.Equal("ping", server.Received(TimeSpan.FromSeconds(10)));
        }
    }

    [Fact]
    public void Node_fetch_to_a_loopback_server_is_denied_then_allowed()
    {
        using var server = new Server(IPAddress.Loopback);
        var script = s.WorkFile("client.js", $$"""
            const net = require('net');
            const c = net.connect({{server.Port}}, '127.0.0.1', () => c.write('ping'));
            c.on('data', d => { console.log('reply: ' + d); c.end(); });
            c.on('error', e => { console.log('connect failed: ' + e.code); process.exit(3); });
            """);
        var denied = s.Cordon("run", "--allow-read=" + s.Work, "--", "node", script);
        Assert.True(denied.ExitCode == 3, denied.ToString());
        Assert.Contains("EACCES", denied.Stdout, StringComparison.Ordinal);

        var allowed = s.Cordon("run", "--allow-read=" + s.Work, $"--allow-net=127.0.0.1:{server.Port}", "--", "node", script);
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        Assert.Contains("reply: pong", allowed.Stdout, StringComparison.Ordinal);
        Assert.Equal("ping", server.Received(TimeSpan.FromSeconds(10)));
    }

    private const string UdpClient = """
        import socket, sys
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.sendto(b"datagram", ("127.0.0.1", int(sys.argv[1])))
        except OSError as e:
            print("sendto failed:", e.errno)
            sys.exit(3)
        print("sent")
        """;

    [Fact]
    public async Task A_udp_datagram_needs_a_rule_for_its_destination()
    {
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)server.Client.LocalEndPoint!).Port;
        var file = s.WorkFile("udp.py", UdpClient);
        var portText = port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var denied = s.Cordon("run", "--allow-read=" + s.Work, "--", "python3", file, portText);
        Assert.True(denied.ExitCode == 3, denied.ToString());
        Assert.Contains("sendto failed: 13", denied.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, server.Available);

        var allowed = s.Cordon("run", "--allow-read=" + s.Work, "--allow-net=127.0.0.1:" + portText, "--", "python3", file, portText);
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        var got = await server.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("datagram", Encoding.ASCII.GetString(got.Buffer));
    }

    [Fact]
    public async Task A_unix_socket_connect_to_a_daemon_is_decided_by_path()
    {
        // The "daemon" lives outside the work directory, like /var/run/docker.sock would.
        var daemonDir = Path.Combine(s.Root, "run");
        Directory.CreateDirectory(daemonDir);
        var path = Path.Combine(daemonDir, "daemon.sock");
        using var daemon = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        daemon.Bind(new UnixDomainSocketEndPoint(path));
        daemon.Listen();
        var accepted = daemon.AcceptAsync();

        var script = s.WorkFile("unix.py", """
            import socket, sys
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                c.connect(sys.argv[1])
            except OSError as e:
                print("connect failed:", e.errno)
                sys.exit(3)
            c.sendall(b"hello daemon")
            print("connected")
            """);
        var denied = s.Cordon("run", "--allow-read=" + s.Work, "--", "python3", script, path);
        Assert.True(denied.ExitCode == 3, denied.ToString());
        Assert.Contains("--allow-net=unix:" + path, denied.Stderr, StringComparison.Ordinal);
        await Task.Delay(300);
        Assert.False(accepted.IsCompleted, "a denied connect must never reach the daemon");

        var allowed = s.Cordon("run", "--allow-read=" + s.Work, "--allow-net=unix:" + path, "--", "python3", script, path);
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        using var peer = await accepted.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Small_sends_of_a_non_dumpable_process_still_go_out()
    {
        // Small sends are trapped only to read DNS queries; a process cordon cannot inspect must still be able to send.
        using var server = new Server(IPAddress.Loopback);
        var script = s.WorkFile("quiet.py", $$"""
            import ctypes, socket
            c = socket.create_connection(("127.0.0.1", {{server.Port}}))
            ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
            c.sendall(b"ping")
            print("reply:", c.recv(100).decode())
            """);
        var r = s.Cordon("run", "--allow-read=" + s.Work, $"--allow-net=127.0.0.1:{server.Port}", "--", "python3", script);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("reply: pong", r.Stdout, StringComparison.Ordinal);
        Assert.Equal("ping", server.Received(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Listening_on_a_port_needs_a_rule()
    {
        var script = s.WorkFile("listen.py", """
            import socket, sys
            l = socket.socket()
            try:
                l.bind(("127.0.0.1", 0))
                l.listen()
            except OSError as e:
                print("listen failed:", e.errno)
                sys.exit(3)
            print("listening")
            """);
        var denied = s.Cordon("run", "--allow-read=" + s.Work, "--", "python3", script);
        Assert.True(denied.ExitCode == 3, denied.ToString());

        var allowed = s.Cordon("run", "--allow-read=" + s.Work, "--allow-net=127.0.0.1", "--", "python3", script);
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        Assert.Contains("listening", allowed.Stdout, StringComparison.Ordinal);
    }
}
