namespace Cordon.Seccomp;

/// <summary>
/// Compiles a <see cref="FilterPlan"/> to cBPF. Layout: check the architecture (kill anything but x86_64), kill x32
/// numbers, refuse numbers newer than cordon, then find the rule by binary search on the syscall number, and only
/// inside a rule's block read arguments. Keeping argument loads out of the dispatch matters: the kernel runs the
/// filter once per syscall number in advance and skips it entirely for numbers whose answer is always ALLOW
/// (kernel/seccomp.c, seccomp_cache_prepare), which only works when the answer does not depend on arguments.
/// Every long jump is a JA (32-bit offset); conditional jumps only skip a few instructions, so no offset overflows.
/// </summary>
public static class FilterCompiler
{
    private const uint OffNr = 0;
    private const uint OffArch = 4;
    private const uint X32Bit = 0x40000000;
    private const int ENOSYS = 38;

    public static SockFilter[] Compile(FilterPlan plan)
    {
        // Plain loops and a sort, not grouping and ordering operators: every run compiles its filter at start-up.
        var sorted = new List<SyscallRule>(plan.Rules);
        sorted.Sort((a, b) => ((int)a.Nr).CompareTo((int)b.Nr));
        var duplicates = new List<Sys>();
        for (int i = 1; i < sorted.Count; i++)
        {
            if (sorted[i].Nr == sorted[i - 1].Nr && !duplicates.Contains(sorted[i].Nr))
            {
                duplicates.Add(sorted[i].Nr);
            }
        }

        if (duplicates.Count > 0)
        {
            throw new ArgumentException("a syscall has two rules: " + string.Join(", ", duplicates));
        }

        var asm = new Assembler();
        var kill = asm.NewLabel();
        var tooNew = asm.NewLabel();
        var fallback = asm.NewLabel();

        asm.Load(OffArch);
        asm.Emit(Op.JMP | Op.JEQ | Op.K, 1, 0, SeccompAction.AuditArchX86_64);
        asm.Jump(kill);
        asm.Load(OffNr);
        asm.Emit(Op.JMP | Op.JSET | Op.K, 0, 1, X32Bit);
        asm.Jump(kill);
        asm.Emit(Op.JMP | Op.JGT | Op.K, 0, 1, (uint)plan.HighestKnown);
        asm.Jump(tooNew);

        var blocks = new List<Assembler.Label>(sorted.Count);
        for (int i = 0; i < sorted.Count; i++)
        {
            blocks.Add(asm.NewLabel());
        }

        Dispatch(asm, sorted, blocks, 0, sorted.Count - 1, fallback);

        asm.Mark(fallback);
        asm.Return(plan.DefaultAction);
        asm.Mark(kill);
        asm.Return(SeccompAction.KillProcess);
        asm.Mark(tooNew);
        asm.Return(SeccompAction.Errno(ENOSYS));

        for (int i = 0; i < sorted.Count; i++)
        {
            asm.Mark(blocks[i]);
            RuleBlock(asm, sorted[i]);
        }

        var program = asm.Link();
        FilterValidator.Validate(program);
        return program;
    }

    /// <summary>The accumulator holds nr here; emits a search over sorted[lo..hi].</summary>
    private static void Dispatch(Assembler asm, List<SyscallRule> sorted, List<Assembler.Label> blocks, int lo, int hi, Assembler.Label fallback)
    {
        if (hi - lo < 4)
        {
            for (int i = lo; i <= hi; i++)
            {
                asm.Emit(Op.JMP | Op.JEQ | Op.K, 0, 1, (uint)sorted[i].Nr);
                asm.Jump(blocks[i]);
            }

            asm.Jump(fallback);
            return;
        }

        int mid = (lo + hi) / 2;
        var right = asm.NewLabel();
        asm.Emit(Op.JMP | Op.JGT | Op.K, 0, 1, (uint)sorted[mid].Nr);
        asm.Jump(right);
        Dispatch(asm, sorted, blocks, lo, mid, fallback);
        asm.Mark(right);
        Dispatch(asm, sorted, blocks, mid + 1, hi, fallback);
    }

    private static void RuleBlock(Assembler asm, SyscallRule rule)
    {
        foreach (var clause in rule.Clauses)
        {
            var next = asm.NewLabel();
            foreach (var check in clause.When)
            {
                Check(asm, check, next);
            }

            asm.Return(clause.Action);
            asm.Mark(next);
        }

        asm.Return(rule.Otherwise);
    }

    /// <summary>Falls through when the check holds; jumps to <paramref name="fail"/> otherwise.</summary>
    private static void Check(Assembler asm, ArgCheck check, Assembler.Label fail)
    {
        uint low = 16 + (8 * (uint)check.Arg);
        uint high = low + 4;
        switch (check)
        {
            case ArgCheck.AnyBitsLow bits:
                asm.Load(low);
                asm.Emit(Op.JMP | Op.JSET | Op.K, 1, 0, bits.Mask);
                asm.Jump(fail);
                break;
            case ArgCheck.EqualsLow eq:
                asm.Load(low);
                asm.Emit(Op.JMP | Op.JEQ | Op.K, 1, 0, eq.Value);
                asm.Jump(fail);
                break;
            case ArgCheck.NonZero:
                asm.Load(low);
                asm.Emit(Op.JMP | Op.JEQ | Op.K, 0, 3, 0); // low word set: holds
                asm.Load(high);
                asm.Emit(Op.JMP | Op.JEQ | Op.K, 0, 1, 0); // high word set: holds
                asm.Jump(fail);
                break;
            case ArgCheck.AtMost most:
                asm.Load(high);
                asm.Emit(Op.JMP | Op.JEQ | Op.K, 1, 0, 0); // high word zero: go on
                asm.Jump(fail);
                asm.Load(low);
                asm.Emit(Op.JMP | Op.JGT | Op.K, 0, 1, most.Value); // above: fail
                asm.Jump(fail);
                break;
            default:
                throw new ArgumentException("unknown check " + check);
        }
    }

    /// <summary>Collects instructions with symbolic JA targets and resolves them at the end.</summary>
    private sealed class Assembler
    {
        private readonly List<SockFilter> code = new(1024); // a run's filter is about 700 instructions: no regrowth
        private readonly List<(int At, Label Target)> fixups = [];
        private readonly List<int> positions = [];

        public readonly record struct Label(int Id);

        public Label NewLabel()
        {
            positions.Add(-1);
            return new Label(positions.Count - 1);
        }

        public void Mark(Label label) => positions[label.Id] = code.Count;

        public void Emit(ushort op, byte jt, byte jf, uint k) => code.Add(new SockFilter(op, jt, jf, k));

        public void Load(uint offset) => Emit(Op.LD | Op.W | Op.ABS, 0, 0, offset);

        public void Return(uint action) => Emit(Op.RET | Op.K, 0, 0, action);

        public void Jump(Label target)
        {
            fixups.Add((code.Count, target));
            Emit(Op.JMP | Op.JA, 0, 0, 0);
        }

        public SockFilter[] Link()
        {
            var program = code.ToArray();
            foreach (var (at, target) in fixups)
            {
                int to = positions[target.Id];
                if (to <= at)
                {
                    throw new InvalidOperationException("cBPF jumps only forward");
                }

                program[at] = program[at] with { K = (uint)(to - at - 1) };
            }

            return program;
        }
    }
}
