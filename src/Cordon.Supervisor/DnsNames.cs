using System.Collections.Concurrent;
using System.Net;
using Cordon.Policy;

namespace Cordon.Supervisor;

/// <summary>
/// Which names this sandbox looked up, and the addresses they stand for. cordon sees the program's DNS queries when
/// they pass through a trapped call (sendto with an address, sendmsg, sendmmsg: glibc sends its A and AAAA queries
/// with sendmmsg), resolves the same names itself through the same resolver, and remembers the answers. A connect
/// to one of those addresses is then shown and decided as "name:port (address)".
/// What it cannot know: lookups that never reach a trapped call (DNS over HTTPS, a resolver that uses send() on a
/// connected socket or TCP writes, hard-coded addresses), and answers that differ between cordon's lookup and the
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

    /// <summary>Looks at a message sent to port 53 and learns what its questions resolve to (waits at most a few seconds).</summary>
    public async Task ObserveQueryAsync(ReadOnlyMemory<byte> message)
    {
        var lookups = DnsWire.Questions(message.Span)
            .Where(q => q.Type is DnsWire.TypeA or DnsWire.TypeAAAA)
            .Select(q => q.Name)
            .Distinct(StringComparer.Ordinal)
            .Select(LearnAsync)
            .ToList();
        if (lookups.Count > 0)
        {
            await Task.WhenAll(lookups).ConfigureAwait(false);
        }
    }

    private async Task LearnAsync(string name)
    {
        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(name).WaitAsync(LookupLimit).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or TimeoutException or ArgumentException)
        {
            return; // the program's own lookup will most likely fail the same way
        }

        Learn(name, addresses);
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
