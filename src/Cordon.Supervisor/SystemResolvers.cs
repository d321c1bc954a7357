using System.Net;

namespace Cordon.Supervisor;

/// <summary>
/// The DNS servers this machine's resolver uses (/etc/resolv.conf), so that a question about one says what it is:
/// "the system's DNS server (10.255.255.53:53)", not a bare address a person cannot place.
/// </summary>
public static class SystemResolvers
{
    private const string ResolvConf = "/etc/resolv.conf";

    private static readonly Lazy<IReadOnlyList<IPAddress>> Servers = new(() => Parse(ProcFs.ReadText(ResolvConf, 1 << 16)));

    public const string Role = "the system's DNS server";

    /// <summary><see cref="Role"/> for port 53 of a configured server, else null.</summary>
    public static string? RoleOf(IPAddress? address, int port)
    {
        if (address is null || port != 53)
        {
            return null;
        }

        var a = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return Servers.Value.Contains(a) ? Role : null;
    }

    /// <summary>
    /// The "nameserver" lines of resolv.conf(5); none (or no file) means the server on the local machine, which
    /// glibc then asks at 127.0.0.1 (and ::1).
    /// </summary>
    public static IReadOnlyList<IPAddress> Parse(string? text)
    {
        var servers = new List<IPAddress>();
        foreach (var line in (text ?? "").Split('\n'))
        {
            var words = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length >= 2 && words[0] == "nameserver" && IPAddress.TryParse(words[1].Split('%')[0], out var ip))
            {
                servers.Add(ip);
            }
        }

        return servers.Count > 0 ? servers : [IPAddress.Loopback, IPAddress.IPv6Loopback];
    }
}
