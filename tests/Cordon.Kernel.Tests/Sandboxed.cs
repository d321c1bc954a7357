using System.Diagnostics;
using System.Text;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>What a run of cordon printed and returned.</summary>
public sealed record RunResult(int ExitCode, string Stdout, string Stderr)
{
    public string All => Stdout + Stderr;

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>
/// A world for kernel tests: a fake home with planted secrets, a work directory the tests grant, and the real
/// cordon binary. Every run happens without a terminal (no prompts: what no rule allows is denied).
/// </summary>
public sealed class Sandboxed : IDisposable
{
    public Sandboxed()
    {
        Root = Directory.CreateTempSubdirectory("cordon-kt-").FullName;
        Home = Path.Combine(Root, "home");
        Work = Path.Combine(Root, "work");
        Directory.CreateDirectory(Path.Combine(Home, ".ssh"));
        Directory.CreateDirectory(Work);
        Marker = "SECRET-" + Guid.NewGuid().ToString("N");
        Secret = Path.Combine(Home, ".ssh", "id_rsa");
        File.WriteAllText(Secret, "-----BEGIN KEY-----\n" + Marker + "\n");
        File.WriteAllText(Path.Combine(Home, ".bashrc"), "# rc\n");
    }

    public string Root { get; }

    public string Home { get; }

    public string Work { get; }

    /// <summary>A unique string inside the secret: it must never appear in any output.</summary>
    public string Marker { get; }

    public string Secret { get; }

    /// <summary>The system's programs only: tools installed in a home directory (pyenv, nvm) are not granted.</summary>
    public const string SystemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>
    /// The cordon under test: the native executable named by CORDON_BIN (run-tests sets it to the build users
    /// run), else this build's cordon.dll through the dotnet host.
    /// </summary>
    public static string[] CordonCommand =>
        Environment.GetEnvironmentVariable("CORDON_BIN") is { Length: > 0 } bin
            ? [bin]
            : ["dotnet", "exec", Path.Combine(AppContext.BaseDirectory, "cordon.dll")];

    /// <summary>
    /// Whether runs without --engine use the view engine: run-tests sets CORDON_ENGINE for each pass; unset (or
    /// auto), a user who is not root gets the view (where it can be built: CI makes /dev/fuse usable).
    /// </summary>
    public static bool UnderView =>
        Environment.GetEnvironmentVariable("CORDON_ENGINE") is var e && (e == "view" || (e is null or "" or "auto" && Interop.Libc.GetEUid() != 0));

    /// <summary><see cref="CordonCommand"/> quoted for sh.</summary>
    public static string CordonShell => string.Join(' ', CordonCommand.Select(a => "'" + a.Replace("'", "'\\''") + "'"));

    /// <summary>Runs `cordon ARGS` with HOME set to the fake home and the work directory as cwd.</summary>
    public RunResult Cordon(params string[] args) => Cordon(args, null);

    public RunResult Cordon(string[] args, IDictionary<string, string>? env, TimeSpan? timeout = null, Action<Process>? whileRunning = null) =>
        Cordon([], args, env, timeout, whileRunning);

    /// <summary>Runs `WRAPPER... cordon ARGS` (e.g. `unshare -n cordon ...`), otherwise as <see cref="Cordon(string[])"/>.</summary>
    public RunResult Cordon(string[] wrapper, string[] args, IDictionary<string, string>? env, TimeSpan? timeout = null, Action<Process>? whileRunning = null)
    {
        string[] command = [.. wrapper, .. CordonCommand];
        var psi = new ProcessStartInfo(command[0])
        {
            WorkingDirectory = Work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in command.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOME"] = Home;
        psi.Environment["LANG"] = "C.UTF-8";
        psi.Environment["PATH"] = SystemPath;
        psi.Environment["XDG_CONFIG_HOME"] = Path.Combine(Home, ".config");
        if (env is not null)
        {
            foreach (var (k, v) in env)
            {
                psi.Environment[k] = v;
            }
        }

        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        whileRunning?.Invoke(p);
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            var report = HangReport.Now();
            p.Kill(entireProcessTree: true);
            Assert.Fail($"cordon {string.Join(' ', args)} did not finish in time\n{stdout.Result}\n{stderr.Result}{report}");
        }

        p.WaitForExit();
        return new RunResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs a command without cordon, for comparison.</summary>
    public RunResult Bare(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program)
        {
            WorkingDirectory = Work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOME"] = Home;
        psi.Environment["LANG"] = "C.UTF-8";
        psi.Environment["PATH"] = SystemPath;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        // A process killed by a signal reports 128+N like a shell would.
        return new RunResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    public string WorkFile(string name, string content)
    {
        var path = Path.Combine(Work, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public void AssertNoSecret(RunResult r)
    {
        Assert.DoesNotContain(Marker, r.All, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>The attack programs from tests/escape, compiled once per test run with the system C compiler.</summary>
public static class EscapeProgram
{
    private static readonly Lazy<string> Built = new(() => Compile("escape", "-pthread"));

    public static string Path => Built.Value;

    /// <summary>Compiles tests/escape/NAME.c into a fresh temp directory; returns the program's path.</summary>
    public static string Compile(string name, params string[] flags)
    {
        var dir = Directory.CreateTempSubdirectory("cordon-" + name + "-").FullName;
        var output = System.IO.Path.Combine(dir, name);
        var source = System.IO.Path.Combine(AppContext.BaseDirectory, "escape", name + ".c");
        var psi = new ProcessStartInfo("cc", ["-O2", .. flags, "-o", output, source]) { RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"cannot compile {name}.c: " + err);
        }

        return output;
    }
}

/// <summary>tests/escape/reach.c: attacks on processes the program did not start, and privilege left behind.</summary>
public static class ReachProgram
{
    private static readonly Lazy<string> Built = new(() => EscapeProgram.Compile("reach", "-pthread"));

    public static string Path => Built.Value;
}
