using System.Diagnostics;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// `--engine auto` on a kernel that lists BPF LSM but refuses its programs (this machine: "bpf" in the LSM list,
/// lockdown "integrity", every BPF LSM load fails with EPERM). Root gets the seccomp engine and one line saying why;
/// `--engine lsm` still fails with 125; `cordon doctor` names the cause from a real load. The runs happen in a private
/// mount namespace with a BPF file system (and securityfs) mounted, so that the engine gets as far as the kernel
/// whatever this machine has mounted, and nothing is mounted for the other tests; the cordon under test is a copy
/// of CORDON_BIN's directory with the BPF object built against this kernel's BTF (native/lsm/build).
/// </summary>
public sealed class EngineFallbackTests : IDisposable
{
    private const string Memo = "/run/cordon-lsm.refused";
    private static readonly Lazy<string> Copy = new(CopyWithObject);
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private static bool Root => Interop.Libc.GetEUid() == 0;

    [Fact]
    public void As_root_auto_falls_back_to_the_seccomp_engine_with_one_line_when_the_kernel_refuses_the_programs()
    {
        if (!Root)
        {
            // An ordinary user: auto means the view here (or the seccomp engine), and nothing is said about the LSM engine.
            var plain = s.Cordon("run", "--engine", "auto", "--", "true");
            Assert.True(plain.ExitCode == 0, plain.ToString());
            Assert.Equal("", plain.Stderr);
            return;
        }

        AssertKernelRefuses();
        File.Delete(Memo); // the first run loads (and fails), the second finds the refusal remembered
        foreach (var round in new[] { "first", "remembered" })
        {
            var r = InNamespace("run", "--engine", "auto", "--", "true");
            Assert.True(r.ExitCode == 0, $"{round}: {r}");
            var line = Assert.Single(r.Stderr.Trim().Split('\n'));
            Assert.StartsWith("cordon: the LSM engine cannot run here: the kernel refuses BPF LSM programs", line, StringComparison.Ordinal);
            Assert.EndsWith("; using the seccomp engine", line, StringComparison.Ordinal);
        }

        Assert.True(File.Exists(Memo));
    }

    [Fact]
    public void As_root_the_fallback_still_sandboxes_the_program()
    {
        if (!Root)
        {
            var plain = s.Cordon("run", "--engine", "auto", "--", "cat", s.Secret);
            Assert.NotEqual(0, plain.ExitCode);
            s.AssertNoSecret(plain);
            return;
        }

        AssertKernelRefuses();
        var r = InNamespace("run", "--engine", "auto", "--", "cat", s.Secret);
        Assert.NotEqual(0, r.ExitCode);
        s.AssertNoSecret(r);
        Assert.Contains("denied read of " + s.Secret, r.Stderr, StringComparison.Ordinal);
        Assert.Contains("using the seccomp engine", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void As_root_an_explicit_lsm_engine_the_kernel_refuses_exits_125_with_one_line_and_runs_nothing()
    {
        var marker = Path.Combine(s.Work, "ran.txt");
        string[] args = ["run", "--engine", "lsm", "-A", "--", "sh", "-c", $"echo x > {marker}"];
        if (!Root)
        {
            var plain = s.Cordon(args);
            Assert.True(plain.ExitCode == 125, plain.ToString());
            Assert.Equal("cordon: the LSM engine cannot run here: it needs root (run cordon with sudo; the program still runs as you)", plain.Stderr.Trim());
            Assert.False(File.Exists(marker));
            return;
        }

        AssertKernelRefuses();
        File.Delete(Memo);
        foreach (var round in new[] { "first", "remembered" })
        {
            var r = InNamespace(args);
            Assert.True(r.ExitCode == 125, $"{round}: {r}");
            var line = Assert.Single(r.Stderr.Trim().Split('\n'));
            Assert.StartsWith("cordon: the LSM engine cannot run here: the kernel refuses BPF LSM programs", line, StringComparison.Ordinal);
            Assert.False(File.Exists(marker), round);
        }
    }

    [Fact]
    public void Doctor_decides_the_engine_from_a_real_load_and_names_the_lockdown_mode()
    {
        if (!Root)
        {
            // An ordinary user's auto is the view where it can be built (CI makes /dev/fuse usable), else seccomp;
            // the LSM engine's facts are shown, and none of them decides this user's engine.
            var plain = s.Cordon("doctor");
            Assert.Contains("info  BPF LSM:", plain.Stdout, StringComparison.Ordinal);
            Assert.Contains("info  view: a real view: built, and `true` ran in it", plain.Stdout, StringComparison.Ordinal);
            Assert.Contains("info  engine: view (--engine auto)", plain.Stdout, StringComparison.Ordinal);
            return;
        }

        var r = InNamespace("doctor");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Stdout.Split('\n');
        string mode = LockdownMode();
        Assert.Contains(lines, l => l.StartsWith("info  lockdown: ", StringComparison.Ordinal) && l.Contains(mode, StringComparison.Ordinal));
        var load = Assert.Single(lines, l => l.StartsWith("info  LSM programs: ", StringComparison.Ordinal));
        if (load.Contains("NO: ", StringComparison.Ordinal))
        {
            // This machine: the list names bpf, yet the load fails; the cause named is lockdown when it is on.
            Assert.Contains("the kernel refuses BPF LSM programs (bpf_object__load: EPERM", load, StringComparison.Ordinal);
            if (mode != "none")
            {
                Assert.Contains($"under lockdown \"{mode}\"", load, StringComparison.Ordinal);
            }

            Assert.Contains("info  engine: seccomp (--engine auto): the LSM engine cannot run here (\"LSM programs\" above)", r.Stdout, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("info  engine: lsm (--engine auto)", r.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Doctor_says_which_tool_the_lsm_build_lacks_or_that_there_is_no_bpf_file_system()
    {
        // CORDON_BIN's own directory: run-tests builds the BPF object elsewhere, and the unprivileged copy has no helper.
        var r = s.Cordon("doctor");
        string dir = Path.GetDirectoryName(Sandboxed.CordonCommand[0] == "dotnet" ? Path.Combine(AppContext.BaseDirectory, "x") : Sandboxed.CordonCommand[0])!;
        var build = Assert.Single(r.Stdout.Split('\n'), l => l.StartsWith("info  LSM engine build: ", StringComparison.Ordinal));
        if (File.Exists(Path.Combine(dir, "cordon-lsm.bpf.o")) && File.Exists(Path.Combine(dir, "cordon-lsm-helper")))
        {
            Assert.DoesNotContain("NO: ", build, StringComparison.Ordinal);
        }
        else
        {
            Assert.Matches(@"NO: cordon-lsm(\.bpf\.o|-helper) is not built", build);
        }

        bool bpffs = File.ReadAllText("/proc/self/mountinfo").Contains(" /sys/fs/bpf ", StringComparison.Ordinal);
        Assert.Contains(bpffs ? "info  BPF file system: mounted at /sys/fs/bpf" : "info  BPF file system: NO: no BPF file system at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)", r.Stdout, StringComparison.Ordinal);
    }

    /// <summary>This machine's kernel must be one that lists BPF LSM and refuses it, or these tests test nothing.</summary>
    private void AssertKernelRefuses()
    {
        var r = InNamespace("doctor");
        Assert.True(r.Stdout.Contains("info  BPF LSM: \"bpf\" is in the kernel's active LSM list", StringComparison.Ordinal) &&
            r.Stdout.Contains("info  LSM programs: NO: the kernel refuses BPF LSM programs", StringComparison.Ordinal),
            "these tests need a kernel that lists BPF LSM but refuses its programs (this machine's); doctor said:\n" + r);
    }

    /// <summary>The kernel's lockdown mode (the bracketed word of securityfs's lockdown), read in a private mount namespace where the machine has no securityfs mounted.</summary>
    private string LockdownMode()
    {
        const string file = "/sys/kernel/security/lockdown";
        if (File.Exists(file))
        {
            return File.ReadAllText(file).Split('[', ']')[1];
        }

        var r = s.Bare("unshare", "-m", "sh", "-c", $"mount -t securityfs securityfs /sys/kernel/security && cat {file}");
        Assert.True(r.ExitCode == 0, "reading the lockdown mode in a private namespace: " + r);
        return r.Stdout.Split('[', ']')[1];
    }

    /// <summary>Runs the copy of cordon with the BPF object in a private mount namespace with bpffs and securityfs.</summary>
    private RunResult InNamespace(params string[] args)
    {
        var psi = new ProcessStartInfo("unshare")
        {
            WorkingDirectory = s.Work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // (unshare makes the new namespace's mounts private: nothing mounted here reaches the machine.)
        foreach (var a in (string[])["-m", "sh", "-c",
                     "grep -q ' /sys/kernel/security ' /proc/self/mountinfo || mount -t securityfs securityfs /sys/kernel/security || exit 99; " +
                     "grep -q ' /sys/fs/bpf ' /proc/self/mountinfo || mount -t bpf bpf /sys/fs/bpf || exit 99; exec \"$@\"",
                     "sh", Path.Combine(Copy.Value, "cordon"), .. args])
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOME"] = s.Home;
        psi.Environment["LANG"] = "C.UTF-8";
        psi.Environment["PATH"] = Sandboxed.SystemPath;
        psi.Environment["XDG_CONFIG_HOME"] = Path.Combine(s.Home, ".config");
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "cordon did not finish in time");
        p.WaitForExit();
        var r = new RunResult(p.ExitCode, stdout.Result, stderr.Result);
        Assert.True(r.ExitCode != 99, "could not mount securityfs or bpffs in a private namespace: " + r);
        return r;
    }

    /// <summary>
    /// CORDON_BIN's directory copied with the BPF object: CORDON_LSM_OBJECT (run-tests builds it against this
    /// kernel's BTF) or, without it, one built now by native/lsm/build from this checkout.
    /// </summary>
    private static string CopyWithObject()
    {
        string bin = Environment.GetEnvironmentVariable("CORDON_BIN") is { Length: > 0 } b
            ? b
            : throw new InvalidOperationException("CORDON_BIN must name the native cordon (run-tests sets it)");
        var dir = Directory.CreateTempSubdirectory("cordon-fallback-").FullName;
        foreach (var f in new[] { "cordon", "cordon-launcher", "cordon-lsm-helper" })
        {
            File.Copy(Path.Combine(Path.GetDirectoryName(bin)!, f), Path.Combine(dir, f));
        }

        if (Environment.GetEnvironmentVariable("CORDON_LSM_OBJECT") is { Length: > 0 } obj)
        {
            File.Copy(obj, Path.Combine(dir, "cordon-lsm.bpf.o"));
            return dir;
        }

        string build = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../native/lsm/build"));
        var psi = new ProcessStartInfo(build, [dir]) { RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? dir : throw new InvalidOperationException($"{build} failed: {err}");
    }
}
