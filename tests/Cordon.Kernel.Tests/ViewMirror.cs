using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Cordon.Interop;
using K = Cordon.Interop.Kernel;
using Cordon.Supervisor.View;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>A decider that records every question and answers by a rule the test sets.</summary>
internal sealed class RecordingDecider : IViewDecider
{
    public ConcurrentQueue<(string Path, uint Tid, ViewOpenKind Kind)> Asked { get; } = new();

    public Func<string, ViewOpenKind, CancellationToken, ValueTask<Errno>> Rule { get; set; } =
        (_, _, _) => ValueTask.FromResult(Errno.None);

    public ValueTask<Errno> DecideOpenAsync(string hostPath, uint tid, ViewOpenKind kind, CancellationToken cancel)
    {
        Asked.Enqueue((hostPath, tid, kind));
        return Rule(hostPath, kind, cancel);
    }

    public int Count(string path, ViewOpenKind kind) => Asked.Count(a => a.Path == path && a.Kind == kind);

    public int Count(string path) => Asked.Count(a => a.Path == path);
}

/// <summary>What a program printed and returned; <see cref="ExitCode"/> is -1 when it did not end in time.</summary>
internal sealed record ProgramResult(int ExitCode, byte[] Stdout, string Stderr)
{
    public string Text => Encoding.UTF8.GetString(Stdout);

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Text}\n--- stderr ---\n{Stderr}";
}

/// <summary>
/// A host tree in a temp directory, mirrored by a <see cref="ViewFileSystem"/> mounted (as root) on another temp
/// directory with the options the view engine uses. As an ordinary user the mount is refused, which
/// <see cref="MountOrAssertRefused"/> asserts instead of pretending.
/// </summary>
internal sealed class ViewMirror : IDisposable
{
    public const string Hello = "hello from the host\n";
    private const ulong MS_NOSUID = 2, MS_NODEV = 4;
    private const int MNT_DETACH = 2;

    private ViewMirror(RecordingDecider decider)
    {
        Decider = decider;
        Marker = "VIEW-SECRET-" + Guid.NewGuid().ToString("N");
        Host = Directory.CreateTempSubdirectory("cordon-view-host-").FullName;
        MountPoint = Directory.CreateTempSubdirectory("cordon-view-mnt-").FullName;
        File.SetUnixFileMode(Host, (UnixFileMode)0x1ED); // 0755: other users may enter (allow_other tests)
        File.WriteAllText(Path.Combine(Host, "hello.txt"), Hello);
        File.CreateSymbolicLink(Path.Combine(Host, "link-to-hello"), "hello.txt");
        Directory.CreateDirectory(Path.Combine(Host, "sub"));
        File.WriteAllText(Path.Combine(Host, "sub", "inner.txt"), "inner\n");
        File.WriteAllText(Path.Combine(Host, "private-0600"), Marker + " private\n");
        File.SetUnixFileMode(Path.Combine(Host, "private-0600"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(Path.Combine(Host, "secret.txt"), Marker + "\n");
        File.CreateSymbolicLink(Path.Combine(Host, "link-to-secret"), "secret.txt");
        Directory.CreateDirectory(Path.Combine(Host, "closed"));
        File.WriteAllText(Path.Combine(Host, "closed", "inside.txt"), "inside\n");
        File.WriteAllText(Path.Combine(Host, "never.txt"), Marker + " never\n");
        File.WriteAllText(Path.Combine(Host, "script.sh"), "#!/bin/sh\necho \"script ran: $1\"\n");
        File.SetUnixFileMode(Path.Combine(Host, "script.sh"), (UnixFileMode)0x1ED);
        File.Copy("/bin/echo", Path.Combine(Host, "tool"));
        File.Copy("/bin/echo", Path.Combine(Host, "denied-tool"));
        Big = new byte[(3 << 20) + 12345];
        new Random(15).NextBytes(Big);
        File.WriteAllBytes(Path.Combine(Host, "big.bin"), Big);
    }

    public RecordingDecider Decider { get; }

    public string Host { get; }

    public string MountPoint { get; }

    /// <summary>In every file the decider denies (and in the 0600 one): it must never appear in any output.</summary>
    public string Marker { get; }

    public byte[] Big { get; }

    public ViewFileSystem Fs { get; private set; } = null!;

    private static bool Root => Libc.GetEUid() == 0;

    public string HostPath(string name) => Path.Combine(Host, name);

    public string ViewPath(string name) => Path.Combine(MountPoint, name);

    /// <summary>
    /// The mirror, mounted; or, for an ordinary user, null after asserting that the kernel refused the mount (the
    /// view engine's unprivileged mount happens in the launcher's user namespace, tested end to end elsewhere).
    /// By default the decider denies secret.txt and the directory "closed" and allows everything else.
    /// </summary>
    public static ViewMirror? MountOrAssertRefused(RecordingDecider? decider = null, Action<ViewMirror>? prepare = null)
    {
        decider ??= new RecordingDecider();
        var mirror = new ViewMirror(decider);
        decider.Rule = (path, _, _) => ValueTask.FromResult(
            path == mirror.HostPath("secret.txt") || path == mirror.HostPath("closed") ? Errno.EACCES : Errno.None);
        prepare?.Invoke(mirror);
        try
        {
            var device = MountFuse(mirror.MountPoint);
            mirror.Fs = new ViewFileSystem(device, decider, mirror.Host);
            Assert.True(Root, "an ordinary user mounted FUSE");
            return mirror;
        }
        catch (ErrnoException e) when (!Root)
        {
            // Opening /dev/fuse or mounting is refused to an ordinary user (which one depends on /dev/fuse's mode).
            Assert.True(e.Errno is Errno.EPERM or Errno.EACCES, e.Message);
            mirror.Dispose();
            return null;
        }
    }

    public static SafeFd MountFuse(string mountPoint)
    {
        var device = SafeFd.FromResult(Libc.OpenAt(K.AT_FDCWD, "/dev/fuse", K.O_RDWR | K.O_CLOEXEC, 0), "open(/dev/fuse)");
        string options = $"fd={device.Fd},rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other";
        if (Libc.Mount("cordon-view", mountPoint, "fuse.cordon", MS_NOSUID | MS_NODEV, options) != 0)
        {
            var e = Io.LastErrno;
            device.Dispose();
            throw new ErrnoException($"mount(fuse at {mountPoint})", e);
        }

        return device;
    }

    public static int Unmount(string path) => Libc.Umount2(path, MNT_DETACH);

    /// <summary>Runs a program in the mirror's mount point; gives up (exit -1) after <paramref name="seconds"/>.</summary>
    public ProgramResult Run(string program, params string[] args) => RunIn(MountPoint, 30, program, args);

    public static ProgramResult RunIn(string directory, int seconds, string program, params string[] args)
    {
        using var p = Start(directory, program, args);
        return Finish(p, seconds);
    }

    public Process Start(string program, params string[] args) => Start(MountPoint, program, args);

    public static Process Start(string directory, string program, params string[] args)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["LC_ALL"] = "C";
        return Process.Start(info)!;
    }

    public static ProgramResult Finish(Process p, int seconds)
    {
        var stdout = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(seconds)))
        {
            try
            {
                p.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }

            return new ProgramResult(-1, [], "(did not end in time)");
        }

        copy.Wait(TimeSpan.FromSeconds(5));
        stderr.Wait(TimeSpan.FromSeconds(5));
        return new ProgramResult(p.ExitCode, stdout.ToArray(), stderr.IsCompletedSuccessfully ? stderr.Result : "");
    }

    /// <summary>Waits up to <paramref name="seconds"/> for <paramref name="condition"/>.</summary>
    public static bool Eventually(Func<bool> condition, int seconds = 10)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }

    public void Dispose()
    {
        Fs?.Dispose();
        _ = Unmount(MountPoint);
        try
        {
            Directory.Delete(MountPoint);
        }
        catch (IOException)
        {
        }

        // rm, not Directory.Delete: .NET cannot name files whose names are not UTF-8.
        Assert.Equal(0, RunIn("/", 30, "rm", "-rf", "--", Host).ExitCode);
    }
}
