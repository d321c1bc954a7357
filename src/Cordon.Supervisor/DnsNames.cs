using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Cordon.Interop;
using Cordon.Policy;

namespace Cordon.Supervisor;

/// <summary>
/// Which names this sandbox looked up, and the addresses they stand for. cordon sees the program's DNS queries when
/// they pass through a trapped call (sendto with an address, sendmsg, sendmmsg: glibc sends its A and AAAA queries
/// with sendmmsg), asks the same questions itself, and remembers the answers. A connect to one of those addresses is
/// then shown and decided as "name:port (address)".
/// cordon asks only the server the program's datagram is addressed to, and only after that datagram was allowed:
/// asking the system's resolver instead would carry any name the program makes up (SECRET.attacker.example) to a
/// server the program itself may not reach, an exfiltration channel cordon would open. So a name is learned only
/// when the program was allowed to send that very question to that very server, and learns nothing when that server
/// does not answer.
/// What it cannot know: lookups that never reach a trapped call (DNS over HTTPS, a resolver that uses send() on a
/// connected socket or TCP writes, hard-coded addresses), and answers that differ between cordon's query and the
/// program's (round-robin DNS). Then the address is shown as it is.
/// </summary>
internal sealed class DnsNames
{
    private const int MaxAddresses = 4096;
    private static readonly TimeSpan LookupLimit = TimeSpan.FromSeconds(3);
    private readonly ConcurrentDictionary<IPAddress, string[]> names = new();

    /// <summary>The names looked up in this sandbox that resolved to <paramref name="address"/>, sorted.</summary>
    public IReadOnlyList<string> Of(IPAddress? address)
    {
        if (address is null)
        {
            return [];
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return names.TryGetValue(address, out var found) ? found : [];
    }

    /// <summary>
    /// Looks at a message the program was allowed to send to <paramref name="server"/> (port 53) and learns what its
    /// A and AAAA questions resolve to there, asking that server and no other (waits at most a few seconds).
    /// </summary>
    public async Task ObserveQueryAsync(IPEndPoint server, ReadOnlyMemory<byte> message)
    {
        var lookups = DnsWire.Questions(message.Span)
            .Where(q => q.Type is DnsWire.TypeA or DnsWire.TypeAAAA)
            .Distinct()
            .Select(q => LearnAsync(server, q))
            .ToList();
        if (lookups.Count > 0)
        {
            await Task.WhenAll(lookups).ConfigureAwait(false);
        }
    }

    private async Task LearnAsync(IPEndPoint server, DnsQuestion question)
    {
        // A random id and cordon's own socket, connected to the server: the kernel drops datagrams from anyone else,
        // and a reply must echo this id and this question to be believed (DnsWire.Answers).
        Span<byte> random = stackalloc byte[2];
        Libc.RandomBytes(random);
        ushort id = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(random);
        var query = DnsWire.Query(id, (question.Name, question.Type));
        var reply = new byte[4096];
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var limit = new CancellationTokenSource(LookupLimit);
        try
        {
            await socket.ConnectAsync(server, limit.Token).ConfigureAwait(false);
            await socket.SendAsync(query, SocketFlags.None, limit.Token).ConfigureAwait(false);
            while (true)
            {
                int n = await socket.ReceiveAsync(reply, SocketFlags.None, limit.Token).ConfigureAwait(false);
                if (DnsWire.Answers(reply.AsSpan(0, n), id, question) is { } addresses)
                {
                    Learn(question.Name, addresses);
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // Nobody answers there (ECONNREFUSED), or not in time: the program's own query will most likely fare the
            // same, and its connect is then shown by address.
        }
    }

    public void Learn(string name, IEnumerable<IPAddress> addresses)
    {
        foreach (var a in addresses)
        {
            if (names.Count >= MaxAddresses && !names.ContainsKey(a))
            {
                return; // bounded: a program resolving millions of names must not grow cordon without limit
            }

            names.AddOrUpdate(a, [name], (_, old) => old.Contains(name) ? old : [.. old.Append(name).Order(StringComparer.Ordinal)]);
        }
    }
}
