using System.Globalization;
using Cordon.Interop;
using Cordon.Policy;
using Cordon.Seccomp;

namespace Cordon.Supervisor;

/// <summary>
/// Calls that reach another process: its limits and scheduling, and its /proc entries (opened by cordon on the
/// caller's behalf). The kernel would refuse the program what a Landlock domain keeps it from (ptrace-style access
/// to any process outside its domain); cordon, which performs the opens, sits outside every domain, so it refuses
/// those itself. cordon's own processes (cordon and the reaper, which holds cordon's control socket) are never
/// reachable, whatever the rules say.
/// </summary>
internal sealed partial class Supervisor
{
    private static readonly int CordonPid = Environment.ProcessId;

    /// <summary>
    /// /proc/PID entries the kernel shows to any process, with no ptrace-style access check (fs/proc/base.c). Every
    /// other entry (mem, environ, auxv, maps, smaps, pagemap, stack, syscall, fd/, fdinfo/, cwd, root, exe, io, ns/,
    /// map_files/, ...) needs ptrace access, which the program's Landlock domain denies for processes outside it.
    /// </summary>
    private static readonly HashSet<string> PublicProcEntries =
        ["stat", "status", "statm", "cmdline", "comm", "cgroup", "limits", "schedstat", "loginuid", "sessionid", "oom_score", "oom_adj", "oom_score_adj", "wchan", "cpuset"];

    /// <summary>
    /// prlimit64, sched_set*, setpriority and ioprio_set with a pid (the filter lets pid 0, the caller, through):
    /// allowed for the caller's own threads and other processes of the sandbox, refused for everything else (other
    /// processes of the user, cordon, the reaper). The kernel looks the pid up again after CONTINUE: a process of
    /// the sandbox that exits and whose pid an outside process takes in between would be reached (README, Limits).
    /// </summary>
    private ValueTask OtherProcess(Call c, int target)
    {
        if (target <= 0)
        {
            c.Continue(); // 0 is the caller; a negative pid is the kernel's ESRCH/EINVAL to give
            return ValueTask.CompletedTask;
        }

        if (View is not null)
        {
            // The pid is one of the view's pid namespace, where every process but the reaper (1) is the program's,
            // and nothing outside can be named: the kernel looks it up there after CONTINUE.
            if (target != 1)
            {
                c.Continue();
                return ValueTask.CompletedTask;
            }

            target = Reaper;
        }

        int? tgid = ProcFs.StatusField(target, "Tgid");
        if (tgid is null)
        {
            c.Fail(Errno.ESRCH);
            return ValueTask.CompletedTask;
        }

        if (tgid == ProcFs.Tgid(c.Tid) || IsProgramProcess(tgid.Value))
        {
            c.Continue();
            return ValueTask.CompletedTask;
        }

        observer.OnIncident($"refused {SyscallNames.Name(c.Nr)} of pid {target.ToString(CultureInfo.InvariantCulture)} by pid {c.Tid.ToString(CultureInfo.InvariantCulture)}: not a process of this sandbox");
        c.Fail(Errno.EPERM);
        return ValueTask.CompletedTask;
    }

    /// <summary>A process the program started (a descendant of the reaper), not one of cordon's own.</summary>
    private bool IsProgramProcess(int pid) => !IsLauncher(pid) && pid != CordonPid && IsMember(pid);

    /// <summary>The launcher or the reaper (in the view engine two processes: outside and first in the pid namespace).</summary>
    private bool IsLauncher(int tgid) => tgid == SandboxRoot || tgid == Reaper;

    /// <summary>
    /// For a canonical path under /proc/PID (or /proc/PID/task/TID): null when the policy may decide it as usual;
    /// otherwise the reason it is refused before any rule is asked. cordon's processes are refused but for the
    /// directory itself, stat, status and comm; processes outside the sandbox only for entries that need ptrace access.
    /// </summary>
    internal string? ProcRefusal(string canonical)
    {
        if (!canonical.StartsWith("/proc/", StringComparison.Ordinal))
        {
            return null;
        }

        var parts = canonical.Split('/');
        // "", "proc", PID [, "task", TID] [, ENTRY ...]
        if (parts.Length < 3 || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
        {
            return null;
        }

        int next = 3;
        if (parts.Length > 4 && parts[3] == "task" && int.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            next = 5;
        }

        if (parts.Length <= next || (parts.Length == next + 1 && parts[next].Length == 0))
        {
            return null; // the directory itself: its listing is names only
        }

        int tgid = ProcFs.Tgid(pid);
        if ((tgid == CordonPid || IsLauncher(tgid)) && parts.Length == next + 1 && parts[next] is "stat" or "status" or "comm")
        {
            return null; // what ps and process-tree walkers read; nothing in it is secret
        }

        if (tgid == CordonPid || IsLauncher(tgid))
        {
            return "a process of cordon's own: never readable from the sandbox";
        }

        if (!PublicProcEntries.Contains(parts[next]) && !IsMember(tgid))
        {
            return "needs ptrace access to a process outside the sandbox, which the kernel refuses the program";
        }

        return null;
    }
}
