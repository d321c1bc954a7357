using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// A folder answer under the view engine binds that folder into the running view (docs/view.md): later reads
/// there are the kernel's, and a bind cannot be redirected by a symbolic link planted between the plan and the
/// launcher's copy. Each run names `--engine view`; the questions are answered in a real terminal (tmux).
/// </summary>
public sealed class ViewBindTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Fact]
    public void A_folder_answer_binds_the_folder_into_the_running_view()
    {
        var folder = Path.Combine(s.Root, "other", "d");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "f"), "first-content\n");
        File.WriteAllText(Path.Combine(folder, "g"), "second-content\n");
        // The program's own mount table shows the bind once the answer is in; the second read asks nothing (no key
        // is sent for it: a second question would hold the script until ExitCode gives up).
        var script = s.WorkFile("bind.sh", $$"""
            cat '{{folder}}/f'
            for i in 1 2 3 4 5 6 7 8 9 10; do
              grep -q ' {{folder}} ' /proc/self/mountinfo && { echo BOUND-IN-VIEW; break; }
              sleep 0.2
            done
            cat '{{folder}}/g'
            """);
        using var t = new Tmux(s, Tmux.Cordon($"run --engine view --no-save --allow-read={s.Work} -- sh {script}"));
        t.WaitFor("wants to read", 30);
        t.Keys("f");
        Assert.Equal(0, t.ExitCode());
        var history = t.History();
        Assert.Contains("first-content", history, StringComparison.Ordinal);
        Assert.Contains("BOUND-IN-VIEW", history, StringComparison.Ordinal);
        Assert.Contains("second-content", history, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_swapped_for_a_symlink_to_a_secret_before_its_bind_is_not_bound_there()
    {
        var other = Path.Combine(s.Root, "other");
        var folder = Path.Combine(other, "d");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "f"), "first-content\n");
        var ssh = Path.GetDirectoryName(s.Secret)!;
        // After the answer, while cordon waits to send the bind (CORDON_TEST_BIND_DELAY_MS), the program replaces
        // the folder with a link to ~/.ssh (it may write in `other`). A bind that followed the link would show the
        // secret at d/id_rsa, or at ~/.ssh itself, without a question.
        var script = s.WorkFile("swap.sh", $$"""
            cat '{{folder}}/f'
            mv '{{folder}}' '{{other}}/d.real' && ln -s '{{ssh}}' '{{folder}}' && echo SWAPPED
            sleep 4
            cat '{{folder}}/id_rsa'; echo via-link=$?
            cat '{{s.Secret}}'; echo direct=$?
            grep -c ' {{ssh}} ' /proc/self/mountinfo; echo done
            """);
        using var t = new Tmux(s, Tmux.Cordon($"run --engine view --no-save --allow-read={s.Work} --allow-write={other} -- sh {script}").Replace(Sandboxed.CordonShell, "env CORDON_TEST_BIND_DELAY_MS=1500 " + Sandboxed.CordonShell, StringComparison.Ordinal));
        t.WaitFor("wants to read", 30);
        t.Keys("f");
        t.WaitFor("SWAPPED", 30);
        // The reads of the secret are the mirror's again, so they are asked about (or denied by the base rules):
        // deny each question until the script is done.
        var until = DateTime.UtcNow.AddSeconds(40);
        while (DateTime.UtcNow < until && !t.Screen().Contains("done", StringComparison.Ordinal))
        {
            if (t.Screen().Contains("wants to read", StringComparison.Ordinal))
            {
                t.Keys("n");
            }

            Thread.Sleep(300);
        }

        Assert.Equal(0, t.ExitCode());
        var history = t.History();
        Assert.Contains("done", history, StringComparison.Ordinal);
        Assert.DoesNotContain(s.Marker, history, StringComparison.Ordinal);
        Assert.Contains("via-link=1", history, StringComparison.Ordinal);
    }
}
