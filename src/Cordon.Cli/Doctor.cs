using System.Diagnostics;
using Cordon.Interop;
using Cordon.Supervisor;
using Cordon.Supervisor.Lsm;
using Cordon.Supervisor.View;

namespace Cordon.Cli;

/// <summary>`cordon doctor`: probes the kernel for real and says, in plain words, what cordon can promise here.</summary>
internal static class Doctor
{
    public static int Run(TextWriter o)
    {
        var probe = Probe();
        bool canRun = probe.GetValueOrDefault("seccomp_notif") == "ok";
        int landlock = int.TryParse(probe.GetValueOrDefault("landlock"), out var l) ? l : 0;
        bool root = Libc.GetEUid() == 0;

        // EPERM or EBUSY: the kernel has the feature, a seccomp filter this process already runs under refuses it.
        bool Refused(string key) => probe.GetValueOrDefault(key) is "EPERM" or "EBUSY";
        const string nested = "REFUSED: this process already runs under a seccomp filter that refuses a second supervisor (cordon inside cordon, or a container or service that forbids it); run cordon outside it";
        Line(o, canRun, "seccomp user notification", canRun
            ? "available: file, program and network calls can be held and decided (the seccomp engine)"
            : Refused("seccomp_notif") ? nested
            : "MISSING: cordon cannot run on this kernel (it needs Linux 5.9 or later with seccomp user notification)");
        bool killable = probe.GetValueOrDefault("killable_recv") == "ok";
        Line(o, killable, "seccomp wait-killable", killable
            ? "available: a held call is not restarted by signals while a question is open"
            : Refused("killable_recv") ? nested
            : "missing (Linux < 5.19): a program that is signalled while a question is open may repeat its call");
        Line(o, landlock >= 6, $"Landlock ABI {landlock}", landlock >= 6
            ? "signals and abstract Unix sockets of the sandbox are scoped: nothing inside can signal or reach processes outside"
            : "no signal scoping (needs ABI 6, Linux 6.12): the sandbox can signal your other processes; daemons it starts may outlive cordon");
        LsmLines(o);
        ViewLines(o, root);

        var uring = Read("/proc/sys/kernel/io_uring_disabled")?.Trim();
        Line(o, null, "io_uring", uring is null ? "sysctl absent" : $"io_uring_disabled={uring}; cordon refuses io_uring inside the sandbox either way (its operations bypass seccomp)");
        var ptrace = Read("/proc/sys/kernel/yama/ptrace_scope")?.Trim();
        Line(o, null, "ptrace scope", ptrace is null ? "Yama absent; the sandbox's Landlock domain and the filter still keep it from tracing cordon"
            : $"yama.ptrace_scope={ptrace}; processes in the sandbox cannot trace or read cordon (Landlock domain{(landlock >= 1 ? "" : " unavailable: relies on the filter and Yama")})");
        var userns = Read("/proc/sys/user/max_user_namespaces")?.Trim();
        Line(o, null, "user namespaces", $"max_user_namespaces={userns ?? "?"}; cordon refuses namespace creation inside the sandbox");
        bool pty;
        try
        {
            var (master, _) = Tty.OpenPseudoTerminal();
            master.Dispose();
            pty = true;
        }
        catch (ErrnoException)
        {
            pty = false;
        }

        Line(o, pty, "pseudo-terminals", pty ? "available: prompts run the program on cordon's own terminal" : "unavailable: cordon cannot prompt (it denies instead)");
        Line(o, null, "running as", root ? "root" : "an ordinary user (no root needed: the view or the seccomp engine)");
        o.WriteLine(canRun ? "verdict: cordon can run here." : "verdict: cordon cannot run here.");
        return canRun ? 0 : 1;
    }

    /// <summary>
    /// The LSM engine: each fact it needs on its own line (root, BPF LSM, the build, the BPF file system, cgroup2, and
    /// the lockdown mode), then, where those allow, a real load of the programs, and the engine `--engine auto` picks.
    /// </summary>
    private static void LsmLines(TextWriter o)
    {
        var checks = LsmAvailability.Cheap(withMemo: false);
        checks.Insert(2, LsmAvailability.LockdownCheck());
        if (checks.All(c => c.Ok))
        {
            checks.Add(LsmAvailability.Load());
        }

        foreach (var c in checks.Where(c => c.What != "running as"))
        {
            Line(o, null, c.What, c.Ok ? c.Text : "NO: " + c.Text);
        }

        var why = checks.FirstOrDefault(c => !c.Ok);
        if (why is null)
        {
            Line(o, null, "engine", "lsm (--engine auto): decisions at the kernel's security hooks; the program runs as the sudo user");
        }
        else if (Libc.GetEUid() == 0)
        {
            Line(o, null, "engine", $"seccomp (--engine auto): the LSM engine cannot run here (\"{why.What}\" above); --engine view also works for root");
        }
    }

    /// <summary>
    /// The view engine (docs/view.md): the cheap facts, then a real run of `true` in a view, and for a user who is
    /// not root the engine `--engine auto` picks.
    /// </summary>
    private static void ViewLines(TextWriter o, bool root)
    {
        var checks = ViewAvailability.Cheap();
        if (checks.All(c => c.Ok))
        {
            checks.Add(ViewProbe());
        }

        foreach (var c in checks)
        {
            Line(o, null, "view: " + c.What, c.Ok ? c.Text : "NO: " + c.Text);
        }

        var why = checks.FirstOrDefault(c => !c.Ok);
        if (root)
        {
            return; // the LSM lines said which engine root gets
        }

        Line(o, null, "engine", why is null
            ? "view (--engine auto): reads the rules allow are served by the kernel; the rest is decided by cordon"
            : $"seccomp (--engine auto): the view cannot be built here: {why.Text}");
    }

    /// <summary>A real view: `true` run in one, with no rule but the base rules and nobody to ask.</summary>
    private static LsmAvailability.Check ViewProbe()
    {
        string? failed = null;
        try
        {
            string program = File.Exists("/usr/bin/true") ? "/usr/bin/true" : "/bin/true";
            var home = Environment.GetEnvironmentVariable("HOME") ?? "/";
            using var policy = new Policy.Policy([], Policy.BaseRules.For(new Policy.BaseContext(home, null, program)), null, home);
            int status = Sandbox.Run(new SandboxOptions
            {
                ProgramPath = program,
                Argv = ["true"],
                Environment = [],
                Policy = policy,
                Observer = new Quiet(),
                View = new ViewOptions { FallBack = why => failed = why },
            });
            if (failed is null && status != 0)
            {
                failed = $"true exited with status {status} in the view";
            }
        }
        catch (SandboxException e)
        {
            failed = e.Message;
        }

        return failed is null ? new("a real view", true, "built, and `true` ran in it")
            : new("a real view", false, failed);
    }

    private sealed class Quiet : IDecisionObserver
    {
        public void OnDecision(Policy.Request request, Policy.Decision decision)
        {
        }

        public void OnIncident(string message)
        {
        }
    }

    private static void Line(TextWriter o, bool? ok, string what, string text) =>
        o.WriteLine($"{(ok switch { true => "ok  ", false => "FAIL", null => "info" })}  {what}: {text}");

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static Dictionary<string, string> Probe()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var p = Process.Start(new ProcessStartInfo(Sandbox.DefaultLauncherPath, "--probe") { RedirectStandardOutput = true, UseShellExecute = false })!;
            foreach (var line in p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split(' ', 2);
                if (parts.Length == 2)
                {
                    result[parts[0]] = parts[1].Trim();
                }
            }

            p.WaitForExit();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            // no launcher: reported as missing seccomp support below would be wrong; say what happened
            result["error"] = e.Message;
        }

        return result;
    }
}
