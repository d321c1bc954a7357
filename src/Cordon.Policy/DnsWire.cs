namespace Cordon.Policy;

/// <summary>One question of a DNS query: the name asked about and the record type (1 = A, 28 = AAAA).</summary>
public sealed record DnsQuestion(string Name, int Type);

/// <summary>
/// Reads the questions of a DNS query as it appears on the wire (RFC 1035, section 4.1): enough to know which names
/// a program looks up, and the addresses in the answer to cordon's own query. Pure parsing, no I/O; anything
/// malformed gives nothing rather than an exception.
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

    /// <summary>
    /// The addresses a response gives for <paramref name="question"/>: the A (or AAAA) records of its answer section,
    /// whatever their owner (a CNAME chain ends at them). Null when <paramref name="response"/> is not the answer to
    /// the query with this <paramref name="id"/> and this one question (another message, or malformed), so the caller
    /// keeps waiting; empty for an answer with no addresses (an error code, NXDOMAIN, a truncated answer).
    /// </summary>
    public static IReadOnlyList<System.Net.IPAddress>? Answers(ReadOnlySpan<byte> response, ushort id, DnsQuestion question)
    {
        if (response.Length < 12 || ((response[0] << 8) | response[1]) != id || (response[2] & 0x80) == 0)
        {
            return null;
        }

        int questions = (response[4] << 8) | response[5];
        if (questions != 1)
        {
            return null;
        }

        // The question comes back as asked (RFC 1035 4.1.1): check it is ours before believing anything.
        var asked = Questions([.. response[..2], (byte)(response[2] & 0x7f), .. response[3..]]);
        if (asked.Count != 1 || asked[0].Type != question.Type || !string.Equals(asked[0].Name, question.Name, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var result = new List<System.Net.IPAddress>();
        if ((response[3] & 0x0f) != 0)
        {
            return result; // RCODE: no such name, server failure, refused
        }

        int at = SkipName(response, 12) + 4; // the question was read above, so its name is well formed
        int answers = (response[6] << 8) | response[7];
        for (int i = 0; i < answers && result.Count < 64; i++)
        {
            at = SkipName(response, at);
            if (at < 0 || at + 10 > response.Length)
            {
                break;
            }

            int type = (response[at] << 8) | response[at + 1];
            int length = (response[at + 8] << 8) | response[at + 9];
            at += 10;
            if (at + length > response.Length)
            {
                break;
            }

            if (type == question.Type && ((type == TypeA && length == 4) || (type == TypeAAAA && length == 16)))
            {
                result.Add(new System.Net.IPAddress(response.Slice(at, length)));
            }

            at += length;
        }

        return result;
    }

    /// <summary>The offset after a name at <paramref name="at"/> (labels, ended by a zero or a compression pointer); -1 if malformed.</summary>
    private static int SkipName(ReadOnlySpan<byte> message, int at)
    {
        while (at >= 0 && at < message.Length)
        {
            int len = message[at];
            if (len == 0)
            {
                return at + 1;
            }

            if ((len & 0xc0) == 0xc0)
            {
                return at + 2 <= message.Length ? at + 2 : -1;
            }

            if (len > 63)
            {
                return -1;
            }

            at += 1 + len;
        }

        return -1;
    }

    /// <summary>Builds a query message: one question per name, recursion desired.</summary>
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
