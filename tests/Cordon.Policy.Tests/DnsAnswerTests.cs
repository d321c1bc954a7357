using System.Net;
using Cordon.Policy;
using Xunit;

namespace Cordon.Policy.Tests;

/// <summary>Reading the answer to cordon's own query: only the response to that very query is believed.</summary>
public class DnsAnswerTests
{
    private static readonly DnsQuestion Asked = new("allowed.test", DnsWire.TypeA);

    /// <summary>A response as a server sends it: the query echoed with QR set, then the answer records.</summary>
    private static byte[] Response(ushort id, string name, int type, int rcode, params byte[][] records)
    {
        var r = DnsWire.Query(id, (name, type)).ToList();
        r[2] |= 0x80;
        r[3] = (byte)(0x80 | rcode);
        r[7] = (byte)records.Length;
        foreach (var rd in records)
        {
            int rtype = rd.Length == 16 ? DnsWire.TypeAAAA : rd.Length == 4 ? DnsWire.TypeA : 5;
            r.AddRange([0xc0, 0x0c, 0, (byte)rtype, 0, 1, 0, 0, 0, 60, 0, (byte)rd.Length]);
            r.AddRange(rd);
        }

        return [.. r];
    }

    [Fact]
    public void The_addresses_of_the_answer_are_read_and_other_records_skipped()
    {
        byte[] cname = [7, (byte)'c', (byte)'a', (byte)'n', (byte)'o', (byte)'n', (byte)'i', (byte)'c', 0xc0, 0x0c];
        var r = Response(0x4242, "Allowed.TEST", DnsWire.TypeA, 0, cname, [127, 0, 0, 2], [127, 0, 0, 7]);
        Assert.Equal([IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.7")], DnsWire.Answers(r, 0x4242, Asked));
    }

    [Fact]
    public void Aaaa_records_answer_an_aaaa_question_only()
    {
        var six = new DnsQuestion("six.test", DnsWire.TypeAAAA);
        var r = Response(7, "six.test", DnsWire.TypeAAAA, 0, IPAddress.IPv6Loopback.GetAddressBytes());
        Assert.Equal([IPAddress.IPv6Loopback], DnsWire.Answers(r, 7, six));
        Assert.Null(DnsWire.Answers(r, 7, six with { Type = DnsWire.TypeA }));
    }

    [Fact]
    public void A_message_that_is_not_the_answer_to_this_query_is_not_believed()
    {
        var r = Response(1, "allowed.test", DnsWire.TypeA, 0, [127, 0, 0, 2]);
        Assert.Null(DnsWire.Answers(r, 2, Asked));                                   // another id
        Assert.Null(DnsWire.Answers(r, 1, Asked with { Name = "evil.test" }));       // another question
        Assert.Null(DnsWire.Answers(DnsWire.Query(1, ("allowed.test", 1)), 1, Asked)); // a query, not a response
        Assert.Null(DnsWire.Answers(r.AsSpan(0, 11), 1, Asked));
    }

    [Fact]
    public void An_error_answer_or_a_cut_off_record_gives_no_address()
    {
        Assert.Empty(DnsWire.Answers(Response(1, "allowed.test", DnsWire.TypeA, 3, [127, 0, 0, 2]), 1, Asked)!);
        var cut = Response(1, "allowed.test", DnsWire.TypeA, 0, [127, 0, 0, 2]);
        Assert.Empty(DnsWire.Answers(cut.AsSpan(0, cut.Length - 1), 1, Asked)!);
    }
}
