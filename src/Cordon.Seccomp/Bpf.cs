using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Cordon.Seccomp;

/// <summary>One classic BPF instruction, struct sock_filter (include/uapi/linux/filter.h): 8 bytes.</summary>
public readonly record struct SockFilter(ushort Code, byte Jt, byte Jf, uint K)
{
    /// <summary>The program as the kernel takes it: little-endian sock_filter array.</summary>
    public static byte[] ToBytes(IReadOnlyList<SockFilter> program)
    {
        var bytes = new byte[program.Count * 8];
        for (int i = 0; i < program.Count; i++)
        {
            var span = bytes.AsSpan(i * 8);
            BinaryPrimitives.WriteUInt16LittleEndian(span, program[i].Code);
            span[2] = program[i].Jt;
            span[3] = program[i].Jf;
            BinaryPrimitives.WriteUInt32LittleEndian(span[4..], program[i].K);
        }

        return bytes;
    }
}

/// <summary>cBPF opcode parts (include/uapi/linux/bpf_common.h).</summary>
public static class Op
{
    public const ushort LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
    public const ushort W = 0x00, H = 0x08, B = 0x10;
    public const ushort IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0;
    public const ushort ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, NEG = 0x80, MOD = 0x90, XOR = 0xa0;
    public const ushort JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
    public const ushort K = 0x00, X = 0x08, A = 0x10;
    public const ushort TAX = 0x00, TXA = 0x80;
}

/// <summary>Return values of a seccomp filter (include/uapi/linux/seccomp.h).</summary>
public static class SeccompAction
{
    public const uint KillProcess = 0x80000000;
    public const uint KillThread = 0x00000000;
    public const uint Trap = 0x00030000;
    public const uint UserNotif = 0x7fc00000;
    public const uint Trace = 0x7ff00000;
    public const uint Log = 0x7ffc0000;
    public const uint Allow = 0x7fff0000;
    public const uint AuditArchX86_64 = 0xC000003E;
    public const uint AuditArchI386 = 0x40000003;

    public static uint Errno(int errno) => 0x00050000 | ((uint)errno & 0xffff);

    public static string Describe(uint action) => (action & 0xffff0000) switch
    {
        KillProcess => "KILL_PROCESS",
        Trap => "TRAP",
        0x00050000 => $"ERRNO({action & 0xffff})",
        UserNotif => "USER_NOTIF",
        Trace => "TRACE",
        Log => "LOG",
        Allow => "ALLOW",
        _ when action == KillThread => "KILL_THREAD",
        _ => "0x" + action.ToString("x8", CultureInfo.InvariantCulture),
    };
}

/// <summary>struct seccomp_data as the filter reads it: nr at 0, arch at 4, ip at 8, args at 16 + 8*i.</summary>
public readonly record struct SeccompData(int Nr, uint Arch, ulong Ip, ulong[] Args)
{
    public const int Size = 64;

    public static SeccompData X64(int nr, params ulong[] args)
    {
        var a = new ulong[6];
        args.CopyTo(a, 0);
        return new SeccompData(nr, SeccompAction.AuditArchX86_64, 0, a);
    }

    public uint Word(uint offset)
    {
        if (offset % 4 != 0 || offset + 4 > Size)
        {
            throw new InvalidOperationException($"misaligned or out-of-range load at {offset}");
        }

        return offset switch
        {
            0 => (uint)Nr,
            4 => Arch,
            8 => (uint)Ip,
            12 => (uint)(Ip >> 32),
            _ => (offset - 16) % 8 == 0 ? (uint)Args[(offset - 16) / 8] : (uint)(Args[(offset - 16) / 8] >> 32),
        };
    }
}

/// <summary>
/// Runs a cBPF program over seccomp_data the way the kernel does (net/core/filter.c, the subset
/// seccomp_check_filter accepts). Anything outside that subset throws: a filter the kernel would reject must not
/// pass a test here.
/// </summary>
public static class BpfInterpreter
{
    /// <summary>Runs <paramref name="program"/>; <paramref name="argLoads"/> counts loads of argument words.</summary>
    public static uint Run(IReadOnlyList<SockFilter> program, SeccompData data) => Run(program, data, out _);

    public static uint Run(IReadOnlyList<SockFilter> program, SeccompData data, out int argLoads)
    {
        uint a = 0, x = 0;
        var mem = new uint[16];
        argLoads = 0;
        for (int pc = 0; pc < program.Count; pc++)
        {
            var ins = program[pc];
            int cls = ins.Code & 0x07;
            switch (cls)
            {
                case Op.LD:
                    switch (ins.Code & 0xe0)
                    {
                        case Op.ABS when (ins.Code & 0x18) == Op.W:
                            if (ins.K >= 16)
                            {
                                argLoads++;
                            }

                            a = data.Word(ins.K);
                            break;
                        case Op.IMM:
                            a = ins.K;
                            break;
                        case Op.MEM:
                            a = mem[ins.K];
                            break;
                        case Op.LEN:
                            a = SeccompData.Size;
                            break;
                        default:
                            throw Bad(pc, ins);
                    }

                    break;
                case Op.LDX:
                    x = (ins.Code & 0xe0) switch
                    {
                        Op.IMM => ins.K,
                        Op.MEM => mem[ins.K],
                        Op.LEN => SeccompData.Size,
                        _ => throw Bad(pc, ins),
                    };
                    break;
                case Op.ST:
                    mem[ins.K] = a;
                    break;
                case Op.STX:
                    mem[ins.K] = x;
                    break;
                case Op.ALU:
                    uint operand = (ins.Code & Op.X) != 0 ? x : ins.K;
                    a = (ins.Code & 0xf0) switch
                    {
                        Op.ADD => a + operand,
                        Op.SUB => a - operand,
                        Op.MUL => a * operand,
                        Op.DIV => operand == 0 ? throw new InvalidOperationException("division by zero") : a / operand,
                        Op.MOD => operand == 0 ? throw new InvalidOperationException("division by zero") : a % operand,
                        Op.OR => a | operand,
                        Op.AND => a & operand,
                        Op.XOR => a ^ operand,
                        Op.LSH => operand >= 32 ? 0 : a << (int)operand,
                        Op.RSH => operand >= 32 ? 0 : a >> (int)operand,
                        Op.NEG => (uint)-(int)a,
                        _ => throw Bad(pc, ins),
                    };
                    break;
                case Op.JMP:
                    uint cmp = (ins.Code & Op.X) != 0 ? x : ins.K;
                    int op = ins.Code & 0xf0;
                    if (op == Op.JA)
                    {
                        pc += (int)ins.K;
                        break;
                    }

                    bool taken = op switch
                    {
                        Op.JEQ => a == cmp,
                        Op.JGT => a > cmp,
                        Op.JGE => a >= cmp,
                        Op.JSET => (a & cmp) != 0,
                        _ => throw Bad(pc, ins),
                    };
                    pc += taken ? ins.Jt : ins.Jf;
                    break;
                case Op.RET:
                    return (ins.Code & 0x18) == Op.A ? a : ins.K;
                case Op.MISC:
                    if ((ins.Code & 0xf8) == Op.TXA)
                    {
                        a = x;
                    }
                    else
                    {
                        x = a;
                    }

                    break;
            }
        }

        throw new InvalidOperationException("program ran off its end without a return");
    }

    private static InvalidOperationException Bad(int pc, SockFilter ins) =>
        new($"instruction {pc} (code 0x{ins.Code:x4}) is not allowed in a seccomp filter");
}

/// <summary>Checks a program the way the kernel does before accepting it (bpf_check_classic, seccomp_check_filter).</summary>
public static class FilterValidator
{
    public const int MaxInstructions = 4096; // BPF_MAXINSNS

    public static void Validate(IReadOnlyList<SockFilter> program)
    {
        if (program.Count == 0 || program.Count > MaxInstructions)
        {
            throw new InvalidOperationException($"program has {program.Count} instructions (1..{MaxInstructions})");
        }

        for (int pc = 0; pc < program.Count; pc++)
        {
            var ins = program[pc];
            if ((ins.Code & 0x07) == Op.JMP)
            {
                long far = (ins.Code & 0xf0) == Op.JA ? (long)pc + 1 + ins.K : pc + 1 + Math.Max(ins.Jt, ins.Jf);
                if (far >= program.Count)
                {
                    throw new InvalidOperationException($"jump at {pc} leaves the program");
                }
            }

            if ((ins.Code & 0x07) == Op.LD && (ins.Code & 0xe0) == Op.ABS && (ins.K % 4 != 0 || ins.K + 4 > SeccompData.Size))
            {
                throw new InvalidOperationException($"load at {pc} outside seccomp_data");
            }
        }

        if ((program[^1].Code & 0x07) != Op.RET)
        {
            throw new InvalidOperationException("program does not end in a return");
        }
    }
}

/// <summary>A readable listing of a program, for test failures and `cordon doctor`.</summary>
public static class Disassembler
{
    public static string Render(IReadOnlyList<SockFilter> program)
    {
        var sb = new StringBuilder();
        for (int pc = 0; pc < program.Count; pc++)
        {
            var i = program[pc];
            sb.Append(CultureInfo.InvariantCulture, $"{pc,4}: ");
            int cls = i.Code & 0x07;
            string src = (i.Code & Op.X) != 0 ? "x" : "#0x" + i.K.ToString("x", CultureInfo.InvariantCulture);
            sb.AppendLine(cls switch
            {
                Op.LD when (i.Code & 0xe0) == Op.ABS => $"ld  [{i.K}]{Field(i.K)}",
                Op.LD => $"ld  #{i.K}",
                Op.LDX => $"ldx #{i.K}",
                Op.ST => $"st  M[{i.K}]",
                Op.STX => $"stx M[{i.K}]",
                Op.ALU => $"alu 0x{i.Code & 0xf0:x2} {src}",
                Op.JMP when (i.Code & 0xf0) == Op.JA => $"ja  {pc + 1 + (int)i.K}",
                Op.JMP => $"{Jump(i.Code)} {src}{Nr(i)}, {pc + 1 + i.Jt}, {pc + 1 + i.Jf}",
                Op.RET => (i.Code & 0x18) == Op.A ? "ret a" : "ret " + SeccompAction.Describe(i.K),
                _ => (i.Code & 0xf8) == Op.TXA ? "txa" : "tax",
            });
        }

        return sb.ToString();
    }

    private static string Field(uint k) => k switch
    {
        0 => "  (nr)",
        4 => "  (arch)",
        >= 16 => $"  (arg{(k - 16) / 8} {((k - 16) % 8 == 0 ? "low" : "high")})",
        _ => "",
    };

    private static string Nr(SockFilter i) =>
        Enum.IsDefined(typeof(Sys), (int)i.K) && (i.Code & 0xf0) is Op.JEQ or Op.JGT ? $" ({SyscallNames.Name((int)i.K)}?)" : "";

    private static string Jump(ushort code) => (code & 0xf0) switch
    {
        Op.JEQ => "jeq ",
        Op.JGT => "jgt ",
        Op.JGE => "jge ",
        _ => "jset",
    };
}
