using System.Globalization;

namespace Cordon.Supervisor.View;

/// <summary>
/// Whether a thread waiting in a FUSE request is being killed, from /proc/TID/status. The kernel sends INTERRUPT
/// for any signal the thread would handle, but it only gives up waiting (and the thread only dies) for a fatal one:
/// fs/fuse/dev.c, request_wait_answer, waits killably once the request reached cordon. A fatal signal that is not a
/// core-dumping one is turned into SIGKILL in every thread's own pending set (kernel/signal.c, complete_signal).
/// </summary>
internal static class ThreadSignals
{
    private const int SIGKILL = 9;

    // Signals whose default action is not to end the process: SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU,
    // SIGURG, SIGWINCH (signal(7)).
    private const ulong HarmlessByDefault = (1ul << (17 - 1)) | (1ul << (18 - 1)) | (1ul << (19 - 1)) | (1ul << (20 - 1))
        | (1ul << (21 - 1)) | (1ul << (22 - 1)) | (1ul << (23 - 1)) | (1ul << (28 - 1));

    /// <summary>
    /// False only when the thread exists and no signal that ends it is pending: a handled signal (a shell's SIGCHLD,
    /// a timer) is then delivered after the open returns, as under the seccomp engine. True when it is being killed,
    /// or its status cannot be read (it is gone, or not in this pid namespace): the open is then given up.
    /// </summary>
    public static bool Dying(uint tid)
    {
        string status;
        try
        {
            status = File.ReadAllText($"/proc/{tid}/status");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }

        return Dying(status);
    }

    /// <summary>The decision on the text of a /proc/TID/status file.</summary>
    public static bool Dying(string status)
    {
        ulong? own = Mask(status, "SigPnd:"), shared = Mask(status, "ShdPnd:"), blocked = Mask(status, "SigBlk:"),
            ignored = Mask(status, "SigIgn:"), caught = Mask(status, "SigCgt:");
        if (own is null || shared is null || blocked is null || ignored is null || caught is null)
        {
            return true;
        }

        ulong pending = own.Value | shared.Value;
        if ((pending & (1ul << (SIGKILL - 1))) != 0)
        {
            return true;
        }

        // A pending signal nobody handles or ignores, whose default ends the process (a core-dumping one, or any
        // other the kernel did not turn into SIGKILL, as for a traced process).
        ulong ending = pending & ~blocked.Value & ~ignored.Value & ~caught.Value & ~HarmlessByDefault;
        return ending != 0;
    }

    private static ulong? Mask(string status, string field)
    {
        int at = status.IndexOf("\n" + field, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        int start = at + 1 + field.Length;
        int end = status.IndexOf('\n', start);
        var value = status.AsSpan(start, (end < 0 ? status.Length : end) - start).Trim();
        return ulong.TryParse(value, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong mask) ? mask : null;
    }
}
