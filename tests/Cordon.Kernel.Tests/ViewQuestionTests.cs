using System.Diagnostics;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// The view engine while a person is asked (tmux): a process whose trapped call waits for one question opens a file
/// through the mirror, which asks another (no deadlock between the supervisor and the FUSE mirror); and cordon killed
/// while the mirror holds an open: the program gets an error, never the file. Each run names `--engine view`.
/// </summary>
public sealed class ViewQuestionTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Fact]
    public void A_write_held_by_a_question_and_a_mirror_open_from_the_same_process_are_both_answered()
    {
        var other = Path.Combine(s.Root, "other");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, "notes.txt"), "notes-content\n");
        // Thread 1 writes a file outside the granted folder (trapped: a question in the supervisor); while it waits,
        // thread 2 reads another file outside it (the mirror: a second question, queued behind the first).
        var script = s.WorkFile("both.py", $$"""
            import threading, time
            def write():
                try:
                    open('{{other}}/out.txt', 'w').write('x'); print('write ok')
                except OSError as e:
                    print('write errno', e.errno)
            t = threading.Thread(target=write); t.start(); time.sleep(1)
            try:
                print('read', open('{{other}}/notes.txt').read().strip())
            except OSError as e:
                print('read errno', e.errno)
            t.join(); print('both done')
            """);
        using var t = new Tmux(s, Tmux.Cordon($"run --engine view --no-save --allow-read={s.Work} -- python3 {script}"));
        t.WaitFor("wants to create", 30);
        t.Keys("y");
        t.WaitFor("wants to read", 30);
        t.Keys("y");
        Assert.Equal(0, t.ExitCode());
        var history = t.History();
        Assert.Contains("write ok", history, StringComparison.Ordinal);
        Assert.Contains("read notes-content", history, StringComparison.Ordinal);
        Assert.Contains("both done", history, StringComparison.Ordinal);
    }

    [Fact]
    public void Cordon_killed_while_the_mirror_holds_an_open_gives_the_program_an_error_never_the_file()
    {
        using var t = new Tmux(s, Tmux.Cordon($"run --engine view --no-save --allow-read={s.Work} -- sh -c 'cat {s.Secret}; echo cat-status=$?; sleep 30'"));
        t.WaitFor("wants to read", 30);
        var cordon = Process.GetProcesses().Where(p => Cmdline(p.Id).Contains(s.Secret, StringComparison.Ordinal) && Cmdline(p.Id).Contains("--engine", StringComparison.Ordinal)).Select(p => p.Id).Min();
        var program = Process.GetProcesses().Where(p => p.ProcessName == "cat" && Cmdline(p.Id).Contains(s.Secret, StringComparison.Ordinal)).Select(p => p.Id).ToList();
        Assert.NotEmpty(program);
        Interop.Libc.Kill(cordon, 9);
        // The whole sandbox goes with cordon (the launcher and the pid namespace's reaper die with it).
        for (int i = 0; i < 100 && program.Any(p => Directory.Exists($"/proc/{p}")); i++)
        {
            Thread.Sleep(100);
        }

        Assert.DoesNotContain(program, p => Directory.Exists($"/proc/{p}") && !File.ReadAllText($"/proc/{p}/stat").Contains(") Z ", StringComparison.Ordinal));
        Assert.DoesNotContain(s.Marker, t.History(), StringComparison.Ordinal);
    }

    private static string Cmdline(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }
}
