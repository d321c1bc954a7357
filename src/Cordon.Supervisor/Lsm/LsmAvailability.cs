using Cordon.Interop;

namespace Cordon.Supervisor.Lsm;

/// <summary>
/// Whether the LSM engine can run here, and when it cannot, why: one line per cause, each saying what the user could
/// do about it. The cheap checks read files only; whether the kernel accepts the programs is known only from a real
/// load (the LSM list can name "bpf" while the kernel refuses every BPF LSM program, as under some lockdown modes).
/// A refusal is remembered for the rest of the boot (<see cref="RefusalMemo"/>), so that a root run with
/// `--engine auto` pays for a failing load once, not at every start.
/// </summary>
public static class LsmAvailability
{
    /// <summary>One fact about this machine: what was checked, whether it lets the LSM engine run, and the line to print.</summary>
    public sealed record Check(string What, bool Ok, string Text);

    private const string LsmList = "/sys/kernel/security/lsm";
    private const string LockdownFile = "/sys/kernel/security/lockdown";

    // Root's alone, on a tmpfs that a reboot empties: a kernel's lockdown mode and LSM list cannot change without one.
    private const string RefusalMemo = "/run/cordon-lsm.refused";

    public static string ObjectPath => Path.Combine(LsmEngine.NativeDirectory, "cordon-lsm.bpf.o");

    /// <summary>
    /// The checks that read files only, in the order a user would fix them, and the refusal remembered from a load
    /// earlier in this boot (unless <paramref name="withMemo"/> is false: `cordon doctor` loads for real instead).
    /// </summary>
    public static List<Check> Cheap(bool withMemo = true)
    {
        var checks = new List<Check>
        {
            Libc.GetEUid() == 0
                ? new("running as", true, "root")
                : new("running as", false, "it needs root (run cordon with sudo; the program still runs as you)"),
            BpfLsm(),
            Build(),
            Directory.Exists(LsmPrograms.BpfFs) && (ProcFs.ReadText("/proc/self/mountinfo", 1 << 20) ?? "").Contains(" " + LsmPrograms.BpfFs + " ", StringComparison.Ordinal)
                ? new("BPF file system", true, $"mounted at {LsmPrograms.BpfFs}")
                : new("BPF file system", false, $"no BPF file system at {LsmPrograms.BpfFs} (mount -t bpf bpf {LsmPrograms.BpfFs})"),
            LsmEngine.CgroupRoot() is { } cg
                ? new("cgroup2", true, $"mounted at {cg.Mount}")
                : new("cgroup2", false, "no cgroup2 file system is mounted (mount -t cgroup2 cgroup2 /sys/fs/cgroup)"),
        };
        if (withMemo && checks.All(c => c.Ok) && Remembered() is { } refused)
        {
            checks.Add(new("LSM programs", false, refused + " (remembered from a load earlier in this boot)"));
        }

        return checks;
    }

    /// <summary>Why the LSM engine cannot run here (the first cause), or null when the cheap checks find none.</summary>
    public static string? Unavailable(bool withMemo = true) => Cheap(withMemo).FirstOrDefault(c => !c.Ok)?.Text;

    /// <summary>The kernel's lockdown mode ("none", "integrity", "confidentiality"), or null when it cannot be read.</summary>
    public static string? Lockdown()
    {
        // The file lists every mode and brackets the one in force: "none [integrity] confidentiality".
        var text = ProcFs.ReadText(LockdownFile);
        int open = text?.IndexOf('[') ?? -1, close = open < 0 ? -1 : text!.IndexOf(']', open);
        return close > open + 1 ? text![(open + 1)..close] : null;
    }

    public static Check LockdownCheck() => Lockdown() switch
    {
        null => new("lockdown", true, $"unknown ({LockdownFile} cannot be read)"),
        "none" => new("lockdown", true, "none"),
        var mode => new("lockdown", true, $"\"{mode}\" in force ({LockdownFile})"),
    };

    private static Check BpfLsm()
    {
        var lsm = ProcFs.ReadText(LsmList)?.Trim();
        if (lsm is null)
        {
            return new("BPF LSM", false, $"cannot read {LsmList} to see whether BPF LSM is on (securityfs not mounted? mount -t securityfs securityfs /sys/kernel/security)");
        }

        return lsm.Split(',').Contains("bpf")
            ? new("BPF LSM", true, $"\"bpf\" is in the kernel's active LSM list ({lsm})")
            : new("BPF LSM", false, $"the kernel's active LSM list ({lsm}) has no \"bpf\" (boot Linux 6.12 or later with lsm={lsm},bpf)");
    }

    /// <summary>The BPF object and the helper next to cordon; when the object is missing, why native/lsm/build did not make it.</summary>
    private static Check Build()
    {
        string dir = LsmEngine.NativeDirectory;
        if (!File.Exists(Path.Combine(dir, "cordon-lsm-helper")))
        {
            return new("LSM engine build", false, "cordon-lsm-helper is not built (it is built with cordon: run ./cordon --version in the checkout)");
        }

        if (File.Exists(ObjectPath))
        {
            return new("LSM engine build", true, $"cordon-lsm.bpf.o and cordon-lsm-helper in {dir}");
        }

        // native/lsm/build leaves the compiler's first complaint next to where the object would be.
        var error = ProcFs.ReadText(Path.Combine(dir, "cordon-lsm.build-error"))?.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        if (error is not null)
        {
            return new("LSM engine build", false, $"cordon-lsm.bpf.o is not built: native/lsm/build failed: {error}");
        }

        var missing = new List<string>();
        if (!OnPath("clang-19") && !OnPath("clang") && !OnPath("clang-14"))
        {
            missing.Add("clang");
        }

        if (!OnPath("bpftool"))
        {
            missing.Add("bpftool");
        }

        if (!File.Exists("/usr/include/bpf/bpf_helpers.h"))
        {
            missing.Add("libbpf-dev");
        }

        return new("LSM engine build", false, missing.Count > 0
            ? $"cordon-lsm.bpf.o is not built, and native/lsm/build needs {string.Join(", ", missing)} (apt-get install clang-19 bpftool libbpf-dev)"
            : $"cordon-lsm.bpf.o is not built (run native/lsm/build {dir})");
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin"]).Any(d => File.Exists(Path.Combine(d, tool)));

    /// <summary>
    /// The line for a kernel that would not load or attach the programs: what failed, the likely cause, and what to
    /// do. (A refusal before verification, EPERM for root, is what lockdown or a kernel that forbids BPF LSM gives.)
    /// </summary>
    public static string Refusal(string step, Errno errno)
    {
        string what = $"{step}: {errno}, {ErrnoException.Describe(errno)}";
        return (int)errno switch
        {
            (int)Errno.EPERM => Lockdown() is { } mode and not "none"
                ? $"the kernel refuses BPF LSM programs ({what}) under lockdown \"{mode}\" ({LockdownFile}), the likely cause: boot without lockdown (Secure Boot off, no lockdown= on the kernel command line) to use it"
                : $"the kernel refuses BPF LSM programs ({what}) although \"bpf\" is in its LSM list: boot a kernel that allows them to use it",
            (int)Errno.ESRCH or (int)Errno.ENOENT =>
                $"this kernel lacks a kernel function or hook the programs need ({what}); Linux 6.12 or later has them all",
            (int)Errno.EOPNOTSUPP or 524 /* ENOTSUPP: no BPF trampolines on this kernel */ =>
                $"this kernel cannot attach BPF LSM programs ({what})",
            (int)Errno.EINVAL or (int)Errno.EACCES or (int)Errno.E2BIG =>
                $"the kernel's verifier rejected the programs ({what}); please report it with the output of uname -r",
            _ => $"loading the programs failed ({what})",
        };
    }

    /// <summary>
    /// `cordon doctor`: whether the kernel takes the programs, from a real load (verified, then released; nothing
    /// attached), unless they are loaded already. Updates what is remembered for this boot either way.
    /// </summary>
    public static Check Load()
    {
        if (LsmPrograms.LoadedHere(ObjectPath))
        {
            return new("LSM programs", true, $"loaded ({string.Join(", ", LsmPrograms.PinDirectories())}), idle between runs; 'sudo cordon unload' detaches them");
        }

        if (LsmPrograms.TryLoad(ObjectPath) is { } refused)
        {
            Remember(refused);
            return new("LSM programs", false, refused);
        }

        Forget();
        return new("LSM programs", true, "the kernel loads and verifies them (checked now, then released); not loaded: the first run with the LSM engine loads them (seconds under emulation) and leaves them loaded");
    }

    /// <summary>Remembers for the rest of this boot that the kernel refused this build's programs, and why.</summary>
    public static void Remember(string refusal)
    {
        try
        {
            File.WriteAllText(RefusalMemo, MemoKey() + "\n" + refusal + "\n");
            File.SetUnixFileMode(RefusalMemo, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not remembered: the next run loads again, which costs time but decides the same.
        }
    }

    private static void Forget()
    {
        try
        {
            File.Delete(RefusalMemo);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static string? Remembered()
    {
        var lines = ProcFs.ReadText(RefusalMemo)?.Split('\n');
        return lines is [var key, var why, ..] && why.Length > 0 && key == MemoKey() ? why : null;
    }

    // The boot and the build: another boot may have another kernel or mode, another build other programs.
    private static string MemoKey() =>
        (ProcFs.ReadText("/proc/sys/kernel/random/boot_id")?.Trim() ?? "?") + " " + Path.GetFileName(LsmPrograms.DirectoryFor(ObjectPath));
}
