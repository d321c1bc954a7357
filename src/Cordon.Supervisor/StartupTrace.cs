using System.Diagnostics;
using System.Globalization;

namespace Cordon.Supervisor;

/// <summary>
/// Where a run's start-up goes, for benchmarks (bench/, README "Performance"): with CORDON_TRACE_STARTUP=1 cordon
/// prints "trace MS STEP" to its standard error at each step, MS counted from Main. With CORDON_TRACE_STARTUP=2 each
/// line also says how much all of cordon's threads have allocated and how many page faults the process has taken
/// (each 5-10 µs on our machines). The time spent writing the lines (the first sets up the console: about a
/// millisecond) is left out of the times that follow. Off, a step costs one check.
/// </summary>
public static class StartupTrace
{
    private static readonly long Start = Stopwatch.GetTimestamp();
    private static readonly string? Level = Environment.GetEnvironmentVariable("CORDON_TRACE_STARTUP");
    private static long spent;

    public static void Mark(string step)
    {
        if (Level is "1" or "2")
        {
            long now = Stopwatch.GetTimestamp();
            double ms = Stopwatch.GetElapsedTime(Start, now - Interlocked.Read(ref spent)).TotalMilliseconds;
            string line = string.Create(CultureInfo.InvariantCulture, $"trace {ms:F2} {step}");
            if (Level == "2")
            {
                // minflt, the 10th field of /proc/self/stat
                line += string.Create(CultureInfo.InvariantCulture, $" ({GC.GetTotalAllocatedBytes(true) / 1024} KiB allocated, {File.ReadAllText("/proc/self/stat").Split(' ')[9]} page faults)");
            }

            Console.Error.WriteLine(line);
            Interlocked.Add(ref spent, Stopwatch.GetTimestamp() - now);
        }
    }
}
