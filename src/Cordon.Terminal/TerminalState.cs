using Cordon.Interop;

namespace Cordon.Terminal;

/// <summary>
/// The settings of cordon's terminal when the program shares it (cordon has no pty of its own for the program
/// because stdin or stderr is not a terminal: `cat list | cordon -- prog`), put back when the run ends, however the
/// program ended. The program could turn echo off or leave the terminal raw; the shell after it must not inherit that.
/// </summary>
/// <remarks>
/// The window size is not put back: a terminal emulator sets it too when its window is resized during the run, and
/// cordon cannot tell who set it (README, Limits).
/// </remarks>
public sealed class TerminalState : IDisposable
{
    private readonly List<(int Fd, Termios Saved)> saved;

    private TerminalState(List<(int, Termios)> saved) => this.saved = saved;

    /// <summary>The settings of each of descriptors 0, 1, 2 that is a terminal; null when none is.</summary>
    public static TerminalState? Save()
    {
        var list = new List<(int, Termios)>();
        for (int fd = 0; fd <= 2; fd++)
        {
            if (Tty.IsATty(fd) == 1 && Tty.GetAttr(fd, out var t) == 0)
            {
                list.Add((fd, t));
            }
        }

        return list.Count == 0 ? null : new TerminalState(list);
    }

    public void Dispose()
    {
        foreach (var (fd, t) in saved)
        {
            // TCSANOW: the program is gone; waiting for output to drain could hang on a terminal stopped with ^S.
            _ = Tty.SetAttr(fd, Tty.TCSANOW, t);
        }
    }
}
