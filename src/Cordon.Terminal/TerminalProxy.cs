using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Channels;
using Cordon.Interop;

namespace Cordon.Terminal;

/// <summary>
/// The program's pseudo-terminal. cordon owns the real terminal: the program gets a pty of its own, and cordon copies
/// keys in and output out. That is what lets cordon hold the program's output while it asks a question, read the
/// answer from the real keyboard without the program seeing it, and keep TIOCSTI and similar tricks inside the
/// program's own pty, away from the user's shell.
/// </summary>
public sealed class TerminalProxy : IDisposable
{
    private const int HeldLimit = 4 << 20;

    /// <summary>The most lines <see cref="fullScreenLines"/> keeps; past it only a count of the rest.</summary>
    private const int FullScreenLinesKept = 20;

    private readonly int input;
    private readonly int output;
    private readonly SafeFd master;
    private readonly SafeFd slave;
    private readonly Termios saved;
    private readonly int[] wake = new int[2];
    private readonly object outGate = new();
    private readonly List<byte[]> held = [];

    /// <summary>
    /// cordon's lines (answers, denials) drawn while the program was on the alternate screen: that screen goes away
    /// when the program leaves it, and the lines with it, so they are written again on the main screen then.
    /// </summary>
    private readonly List<string> fullScreenLines = [];
    private readonly ClipboardFilter clipboard = new();
    private readonly List<PosixSignalRegistration> signals = [];
    private ScreenModel screen = new(24, 80);
    private Thread? inThread;
    private Thread? outThread;
    private int heldBytes;
    private int fullScreenLinesLeftOut;
    private bool holding;
    private bool atLineStart = true;
    private bool terminalGone;
    private bool rawNow;
    private bool clipboardNoticed;
    private bool inlineBox;
    private volatile bool stopping;
    private ChannelWriter<byte>? keys;
    private int programGroup;

    private TerminalProxy(int input, int output, SafeFd master, SafeFd slave, Termios saved)
    {
        this.input = input;
        this.output = output;
        this.master = master;
        this.slave = slave;
        this.saved = saved;
    }

    /// <summary>
    /// A proxy when cordon can talk to a person: stdin and stderr are terminals. Null otherwise (CI, pipes): then
    /// nobody is asked and the program keeps cordon's own descriptors.
    /// </summary>
    public static TerminalProxy? TryCreate()
    {
        if (Tty.IsATty(0) != 1 || Tty.IsATty(2) != 1 || Tty.GetAttr(0, out var saved) != 0)
        {
            return null;
        }

        var (master, slavePath) = Tty.OpenPseudoTerminal();
        var slave = SafeFd.FromResult(Libc.OpenAt(Kernel.AT_FDCWD, slavePath, Kernel.O_RDWR | Kernel.O_NOCTTY | Kernel.O_CLOEXEC, 0), "open " + slavePath);
        // The program's pty starts with the settings of the user's terminal (erase key, flow control, size).
        _ = Tty.SetAttr(slave.Fd, Tty.TCSANOW, saved);
        if (Tty.GetSize(0) is { } size)
        {
            Tty.SetSize(master.Fd, size);
        }

        int output = Tty.IsATty(1) == 1 ? 1 : 2;
        var users = new List<string>();
        for (int fd = 0; fd <= 2; fd++)
        {
            if (Tty.IsATty(fd) == 1 && new FileInfo($"/proc/self/fd/{fd}").LinkTarget is { } name && name.StartsWith("/dev/", StringComparison.Ordinal) && !users.Contains(name))
            {
                users.Add(name);
            }
        }

        var proxy = new TerminalProxy(0, output, master, slave, saved) { UserTerminals = users, ProgramTerminal = slavePath };
        if (Tty.GetSize(0) is { Rows: > 0, Cols: > 0 } known)
        {
            proxy.screen = new ScreenModel(known.Rows, known.Cols);
        }

        return proxy;
    }

    /// <summary>The device name of the program's terminal (this proxy's pseudo-terminal).</summary>
    public string? ProgramTerminal { get; private init; }

    /// <summary>The device names of the user's terminal (cordon's descriptors 0, 1, 2), which the program must not open.</summary>
    public IReadOnlyList<string> UserTerminals { get; private init; } = [];

    /// <summary>Which of the program's descriptors 0, 1, 2 become the pty: those that are cordon's terminal; a redirected stdout stays redirected.</summary>
    public IReadOnlyList<(int From, int To)> ProgramDescriptors()
    {
        var list = new List<(int, int)>();
        for (int fd = 0; fd <= 2; fd++)
        {
            if (Tty.IsATty(fd) == 1)
            {
                list.Add((slave.Fd, fd));
            }
        }

        return list;
    }

    /// <summary>Puts the real terminal in raw mode and starts copying. Call after the program was spawned.</summary>
    public void Start()
    {
        (wake[0], wake[1]) = Tty.WakePipe();
        EnterRaw();
        signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => CopyWindowSize()));
        inThread = new Thread(InputLoop) { Name = "cordon-tty-in", IsBackground = true };
        outThread = new Thread(OutputLoop) { Name = "cordon-tty-out", IsBackground = true };
        inThread.Start();
        outThread.Start();
    }

    /// <summary>Our copy of the slave must be closed once the program has it, or the end of its output never shows.</summary>
    public void ProgramStarted() => slave.Dispose();

    /// <summary>The program's process group, which gets SIGCONT when cordon is continued after Ctrl-Z.</summary>
    public void SetProgramGroup(int pgid) => programGroup = pgid;

    /// <summary>
    /// The program stopped (Ctrl-Z): give the terminal back as it was, stop cordon itself so that the shell sees a
    /// stopped job, and when the shell continues cordon (fg), take the terminal again and continue the program.
    /// </summary>
    public void Suspend()
    {
        LeaveRaw();
        _ = Libc.Kill(Tty.GetPid(), Kernel.SIGSTOP);
        // Here the shell has sent SIGCONT.
        EnterRaw();
        CopyWindowSize();
        if (programGroup > 0)
        {
            _ = Libc.Kill(-programGroup, Kernel.SIGCONT);
        }
    }

    /// <summary>Holds the program's output back (kept in memory, replayed by <see cref="Release"/>).</summary>
    public void Hold()
    {
        lock (outGate)
        {
            holding = true;
        }
    }

    /// <summary>
    /// Replays held output; then a full-screen program's screen is drawn again from cordon's copy of it
    /// (<see cref="ScreenModel"/>), or, where that copy cannot be trusted, the program is told to redraw (a
    /// window-size change, as after a resize).
    /// </summary>
    public void Release()
    {
        bool redraw = false;
        lock (outGate)
        {
            foreach (var chunk in held)
            {
                FdIo.WriteAll(output, chunk);
                atLineStart = chunk.Length > 0 && chunk[^1] == (byte)'\n';
            }

            held.Clear();
            heldBytes = 0;
            holding = false;
            WriteFullScreenLines();
            if (screen.AltScreen)
            {
                // The copy is used only when it is exact: the model followed every sequence, and the real terminal
                // still has the size the model has (a resize cordon has not copied yet would be drawn wrong). Else
                // the program redraws itself, as before: vim then loses its message line, less in "(press
                // RETURN)" does not redraw (README, Limits).
                if (screen.Trusted && Tty.GetSize(input) is { } size && size.Rows == screen.Rows && size.Cols == screen.Columns)
                {
                    FdIo.WriteAll(output, screen.Repaint());
                }
                else
                {
                    redraw = true;
                }
            }

            Monitor.PulseAll(outGate);
        }

        if (redraw)
        {
            Redraw();
        }
    }

    private static byte[] RawLines(string text) =>
        Encoding.UTF8.GetBytes(text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal));

    /// <summary>
    /// Shows a prompt box; returns its height in lines, for <see cref="ReplaceBox"/>. On a full-screen program the
    /// box goes on a line of its own and the program redraws afterwards. Otherwise (a shell, a build) the program's
    /// line must stay where the program thinks it is, with the cursor in it, or readline's line is broken after a
    /// question asked during Tab completion: a blank line is opened above the program's line (for the outcome), the
    /// box is drawn below it, and the cursor is saved (DECSC) once nothing will scroll any more.
    /// </summary>
    public int ShowBox(string box)
    {
        lock (outGate)
        {
            int height = box.Count(c => c == '\n');
            inlineBox = !screen.AltScreen;
            if (!inlineBox)
            {
                string prefix = atLineStart ? "" : "\n";
                FdIo.WriteAll(output, RawLines(prefix + box));
                atLineStart = true;
                return height;
            }

            // IND (ESC D) moves down a line, scrolling at the bottom, and keeps the column: the room the box and the
            // outcome line need below the program's line; then back up to it.
            int room = height + 2;
            var sb = new StringBuilder();
            sb.Insert(0, "\u001bD", room).Append($"\u001b[{room}A");
            sb.Append("\u001b7\r\u001b[L\u001b8\u001b[1B\u001b7\r\n"); // open a line above, follow the program's line down, save
            FdIo.WriteAll(output, Encoding.UTF8.GetBytes(sb.ToString()));
            FdIo.WriteAll(output, RawLines(box));
            return height;
        }
    }

    /// <summary>Erases the box and leaves one line in its place (above the program's line when the box was inline).</summary>
    public void ReplaceBox(int height, string line)
    {
        lock (outGate)
        {
            if (!inlineBox)
            {
                FdIo.WriteAll(output, RawLines($"\u001b[{height}A\r\u001b[J{Display.Escape(line)}\n"));
                atLineStart = true;
                KeepForMainScreen(line);
                return;
            }

            // Back to the program's line, erase everything below it, write the outcome in the line opened above it
            // (cut to the width so that it cannot wrap and scroll), and put the cursor back where the program left it.
            string text = Display.Short(line, Math.Max(10, Columns - 1));
            FdIo.WriteAll(output, Encoding.UTF8.GetBytes($"\u001b8\u001b[1B\r\u001b[J\u001b8\u001b[1A\r\u001b[2K{text}\u001b8"));
        }
    }

    /// <summary>One of cordon's own message lines (a denial): shown now, or after the open question like the program's output.</summary>
    public void WriteMessage(string line)
    {
        lock (outGate)
        {
            var bytes = RawLines((atLineStart ? "" : "\n") + line + "\n");
            if (screen.AltScreen)
            {
                KeepForMainScreen(line);
            }

            if (holding)
            {
                held.Add(bytes);
            }
            else
            {
                FdIo.WriteAll(output, bytes);
                atLineStart = true;
            }
        }
    }

    /// <summary>
    /// From now on keys go to the returned reader instead of the program. Keys typed before this call never reach it:
    /// the terminal's input queue is flushed first, so type-ahead meant for the program cannot answer a prompt.
    /// </summary>
    public ChannelReader<byte> TakeKeys()
    {
        var channel = Channel.CreateUnbounded<byte>();
        lock (outGate)
        {
            _ = Tty.Flush(input, Tty.TCIFLUSH);
            keys = channel.Writer;
            if (terminalGone)
            {
                channel.Writer.TryComplete();
            }
        }

        return channel.Reader;
    }

    /// <summary>Keys go to the program again.</summary>
    public void GiveKeysBack()
    {
        lock (outGate)
        {
            keys?.TryComplete();
            keys = null;
        }
    }

    /// <summary>Sends bytes to the program as if typed.</summary>
    public void Type(ReadOnlySpan<byte> bytes) => FdIo.WriteAll(master.Fd, bytes);

    /// <summary>
    /// Ctrl-C for the program, pressed at a question. Where its terminal turns Ctrl-C into SIGINT, the foreground
    /// group gets the signal at once (TIOCSIG), before the question's answer lets the program go on: a typed ^C
    /// becomes the signal only when a kernel worker processes the terminal's input, and a program that had already
    /// taken the denial and exited normally would not be seen as interrupted (its shell then goes on). Otherwise
    /// (a full-screen program reads Ctrl-C as a key) the byte, as typed.
    /// </summary>
    public void Interrupt()
    {
        if (!Tty.SignalInterrupt(master.Fd))
        {
            Type([Tty.CtrlC]);
        }
    }

    /// <summary>Columns of the real terminal (80 when unknown).</summary>
    public int Columns => Tty.GetSize(input) is { Cols: > 0 } s ? s.Cols : 80;

    private void Redraw()
    {
        // Full-screen programs redraw on SIGWINCH. It goes to the pty's foreground group, as the kernel sends it on
        // a resize, but without changing the size: the old shrink-and-grow made them draw twice, once for a screen
        // one line short.
        int group = Tty.GetForegroundGroup(master.Fd);
        if (group > 0)
        {
            _ = Libc.Kill(-group, Kernel.SIGWINCH);
        }
    }

    private void CopyWindowSize()
    {
        if (Tty.GetSize(input) is { } size)
        {
            lock (outGate)
            {
                // The program's next output is for the new size; what the terminal did with the old screen is its
                // own (tmux reflows it), so the model is not trusted until the program erases the screen.
                Tty.SetSize(master.Fd, size);
                screen.Resize(size.Rows, size.Cols);
            }
        }
    }

    private void EnterRaw()
    {
        var raw = saved;
        Tty.MakeRaw(ref raw);
        lock (outGate)
        {
            if (Tty.SetAttr(input, Tty.TCSADRAIN, raw) == 0)
            {
                rawNow = true;
            }
        }
    }

    private void LeaveRaw()
    {
        lock (outGate)
        {
            if (rawNow)
            {
                _ = Tty.SetAttr(input, Tty.TCSADRAIN, saved);
                rawNow = false;
            }
        }
    }

    private void InputLoop()
    {
        var buffer = new byte[4096];
        int[] fds = [input, wake[0]];
        while (!stopping)
        {
            var ready = FdIo.Poll(fds, Kernel.POLLIN, -1);
            if (ready[1] != 0 || stopping)
            {
                return;
            }

            if ((ready[0] & (Kernel.POLLIN | Kernel.POLLHUP | Kernel.POLLERR)) == 0)
            {
                continue;
            }

            int n = FdIo.Read(input, buffer);
            if (n == -(int)Errno.EINTR || n == -(int)Errno.EAGAIN)
            {
                continue;
            }

            if (n <= 0)
            {
                // The user's terminal is gone (SIGHUP reaches the program through the signal forwarding): an open
                // question can never be answered, and no later one either.
                lock (outGate)
                {
                    terminalGone = true;
                    keys?.TryComplete();
                }

                return;
            }

            ChannelWriter<byte>? sink;
            lock (outGate)
            {
                sink = keys;
            }

            if (sink is not null)
            {
                for (int i = 0; i < n; i++)
                {
                    sink.TryWrite(buffer[i]);
                }
            }
            else if (!FdIo.WriteAll(master.Fd, buffer.AsSpan(0, n)))
            {
                return;
            }
        }
    }

    private void OutputLoop()
    {
        var buffer = new byte[16384];
        int[] fds = [master.Fd, wake[0]];
        while (true)
        {
            var ready = FdIo.Poll(fds, Kernel.POLLIN, -1);
            if ((ready[0] & (Kernel.POLLIN | Kernel.POLLHUP | Kernel.POLLERR)) == 0)
            {
                if (ready[1] != 0)
                {
                    return;
                }

                continue;
            }

            int n = FdIo.Read(master.Fd, buffer);
            if (n == -(int)Errno.EINTR || n == -(int)Errno.EAGAIN)
            {
                continue;
            }

            if (n <= 0)
            {
                return; // EIO: every copy of the slave is closed, the program and its children are done with it
            }

            lock (outGate)
            {
                var chunk = clipboard.Filter(buffer.AsSpan(0, n));
                if (chunk.IsEmpty)
                {
                    continue;
                }

                screen.Feed(chunk);
                if (holding)
                {
                    held.Add(chunk.ToArray());
                    heldBytes += n;
                    // A program that keeps printing while a question is open waits for the answer like everyone else.
                    while (holding && heldBytes > HeldLimit)
                    {
                        Monitor.Wait(outGate);
                    }
                }
                else
                {
                    FdIo.WriteAll(output, chunk);
                    atLineStart = chunk[^1] == (byte)'\n';
                    if (!screen.AltScreen)
                    {
                        WriteFullScreenLines();
                        NoticeClipboard();
                    }
                }
            }
        }
    }

    /// <summary>Keeps a line drawn on the alternate screen for <see cref="WriteFullScreenLines"/>. Called with <see cref="outGate"/> held.</summary>
    private void KeepForMainScreen(string line)
    {
        if (fullScreenLines.Count < FullScreenLinesKept)
        {
            fullScreenLines.Add(line);
        }
        else
        {
            fullScreenLinesLeftOut++;
        }
    }

    /// <summary>
    /// Once the program is back on the main screen (or has ended), writes there the lines cordon drew while it was
    /// full screen, so that the scrollback says what was answered and denied. Called with <see cref="outGate"/> held.
    /// </summary>
    private void WriteFullScreenLines()
    {
        if (holding || screen.AltScreen || fullScreenLines.Count == 0)
        {
            return;
        }

        var text = new StringBuilder(atLineStart ? "" : "\n");
        foreach (var line in fullScreenLines)
        {
            text.Append(Display.Escape(line)).Append('\n');
        }

        if (fullScreenLinesLeftOut > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"cordon: and {fullScreenLinesLeftOut} more line(s) while the program was full screen\n");
        }

        fullScreenLines.Clear();
        fullScreenLinesLeftOut = 0;
        FdIo.WriteAll(output, RawLines(text.ToString()));
        atLineStart = true;
    }

    /// <summary>
    /// Says once that clipboard commands were removed, when that does not draw over a full-screen program (else at
    /// the end of the run). Called with <see cref="outGate"/> held.
    /// </summary>
    private void NoticeClipboard()
    {
        if (clipboard.Removed > 0 && !clipboardNoticed)
        {
            clipboardNoticed = true;
            WriteMessage("cordon: removed a clipboard command (OSC 52) from the program's output: the sandbox cannot set or read your clipboard");
        }
    }

    /// <summary>Lets the program's last output through (until its pty closes, at most <paramref name="wait"/>), then restores the terminal.</summary>
    public void Finish(TimeSpan wait)
    {
        slave.Dispose();
        if (outThread is not null && !outThread.Join(wait))
        {
            Wake();
        }

        Dispose();
    }

    private void Wake()
    {
        if (wake[1] > 0)
        {
            FdIo.WriteAll(wake[1], "x"u8);
        }
    }

    public void Dispose()
    {
        if (stopping)
        {
            return;
        }

        stopping = true;
        Wake();
        foreach (var r in signals)
        {
            r.Dispose();
        }

        outThread?.Join(TimeSpan.FromSeconds(1));
        inThread?.Join(TimeSpan.FromSeconds(1));
        lock (outGate)
        {
            FdIo.WriteAll(output, clipboard.Flush());
            holding = false;
            WriteFullScreenLines();
            NoticeClipboard();
        }

        LeaveRaw();
        keys?.TryComplete();
        master.Dispose();
        slave.Dispose();
        foreach (var fd in wake)
        {
            if (fd > 0)
            {
                _ = Libc.Close(fd);
            }
        }
    }
}

/// <summary>cordon's own messages (denial lines) while the proxy owns the terminal: whole lines, raw line ends, held during a question.</summary>
public sealed class ProxyMessageWriter(TerminalProxy tty) : TextWriter
{
    private readonly System.Text.StringBuilder line = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (line)
        {
            if (value == '\n')
            {
                tty.WriteMessage(line.ToString());
                line.Clear();
            }
            else if (value != '\r')
            {
                line.Append(value);
            }
        }
    }
}
