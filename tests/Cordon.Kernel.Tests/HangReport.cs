using System.Globalization;
using System.Text;

namespace Cordon.Kernel.Tests;

/// <summary>
/// What every cordon and launcher process on the machine is doing, thread by thread: for a test that gave up
/// waiting, so that a rare hang (seen about once in a few thousand runs) leaves more than "did not finish" behind.
/// Each thread's name, state, kernel wait channel and the system call it is in (number and first arguments).
/// </summary>
public static class HangReport
{
    public static string Now()
    {
        var text = new StringBuilder("\n---- cordon processes at the timeout ----\n");
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            string comm = Read(Path.Combine(dir, "comm"));
            if (!comm.StartsWith("cordon", StringComparison.Ordinal))
            {
                continue;
            }

            text.Append(CultureInfo.InvariantCulture, $"pid {pid} ({comm}) {Read(Path.Combine(dir, "cmdline")).Replace('\0', ' ')}\n");
            try
            {
                foreach (var task in Directory.EnumerateDirectories(Path.Combine(dir, "task")))
                {
                    var stat = Read(Path.Combine(task, "stat"));
                    int close = stat.LastIndexOf(')');
                    string state = close > 0 && close + 2 < stat.Length ? stat[(close + 2)..].Split(' ')[0] : "?";
                    text.Append(CultureInfo.InvariantCulture,
                        $"  tid {Path.GetFileName(task)} {Read(Path.Combine(task, "comm"))} state {state} wchan {Read(Path.Combine(task, "wchan"))} syscall {Read(Path.Combine(task, "syscall"))}\n");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                text.Append("  (gone)\n");
            }
        }

        return text.ToString();
    }

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }
}
