namespace Cordon.Policy;

/// <summary>One question of a DNS query: the name asked about and the record type (1 = A, 28 = AAAA).</summary>
public sealed record DnsQuestion(string Name, int Type);

/// <summary>
/// Reads the questions of a DNS query as it appears on the wire (RFC 1035, section 4.1): enough to know which names
/// a program looks up. Pure parsing, no I/O; anything malformed gives no questions rather than an exception.
/// </summary>
public static class DnsWire
{
    public const int TypeA = 1;
    public const int TypeAAAA = 28;

    /// <summary>The questions of a query message (QR bit clear); empty for responses and anything malformed.</summary>
    public static IReadOnlyList<DnsQuestion> Questions(ReadOnlySpan<byte> message)
    {
        if (message.Length < 12 || (message[2] & 0x80) != 0)
        {
            return [];
        }

        int count = (message[4] << 8) | message[5];
        if (count is 0 or > 16)
        {
            return [];
        }

        var result = new List<DnsQuestion>(count);
        int at = 12;
        for (int q = 0; q < count; q++)
        {
            var labels = new List<string>();
            int total = 0;
            while (true)
            {
                if (at >= message.Length)
                {
                    return [];
                }

                int len = message[at++];
                if (len == 0)
                {
                    break;
                }

                // Compression pointers (0xC0) are not used in questions of a query; labels are at most 63 bytes.
                if (len > 63 || at + len > message.Length || (total += len + 1) > 255)
                {
                    return [];
                }

                labels.Add(System.Text.Encoding.ASCII.GetString(message.Slice(at, len)).ToLowerInvariant());
                at += len;
            }

            if (at + 4 > message.Length || labels.Count == 0)
            {
                return [];
            }

            int type = (message[at] << 8) | message[at + 1];
            at += 4; // type and class
            result.Add(new DnsQuestion(string.Join('.', labels), type));
        }

        return result;
    }

    /// <summary>Builds a query message (for tests and tools): one question per name, recursion desired.</summary>
    public static byte[] Query(ushort id, params (string Name, int Type)[] questions)
    {
        var bytes = new List<byte> { (byte)(id >> 8), (byte)id, 0x01, 0x00, 0, (byte)questions.Length, 0, 0, 0, 0, 0, 0 };
        foreach (var (name, type) in questions)
        {
            foreach (var label in name.Split('.'))
            {
                bytes.Add((byte)label.Length);
                bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(label));
            }

            bytes.AddRange([0, (byte)(type >> 8), (byte)type, 0, 1]);
        }

        return [.. bytes];
    }
}
