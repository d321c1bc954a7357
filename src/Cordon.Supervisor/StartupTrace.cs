using System.Diagnostics;
using System.Globalization;

namespace Cordon.Supervisor;

/// <summary>
/// Where a run's start-up goes, for benchmarks (bench/, README "Performance"): with CORDON_TRACE_STARTUP=1 cordon
/// prints "trace MS STEP" to its standard error at each step, MS counted from Main. With CORDON_TRACE_STARTUP=2 each
/// line also says how much all of cordon's threads have allocated and how many page faults the process has taken
/// (each 5-10 µs on our machines); reading them costs time of its own, so the times are for =1. Off, a step costs
/// one check.
/// </summary>
public static class StartupTrace
{
    private static readonly long Start = Stopwatch.GetTimestamp();
    private static readonly string? Level = Environment.GetEnvironmentVariable("CORDON_TRACE_STARTUP");

    public static void Mark(string step)
    {
        if (Level is "1" or "2")
        {
            string line = string.Create(CultureInfo.InvariantCulture, $"trace {Stopwatch.GetElapsedTime(Start).TotalMilliseconds:F2} {step}");
            if (Level == "2")
            {
                // minflt, the 10th field of /proc/self/stat
                line += string.Create(CultureInfo.InvariantCulture, $" ({GC.GetTotalAllocatedBytes(true) / 1024} KiB allocated, {File.ReadAllText("/proc/self/stat").Split(' ')[9]} page faults)");
            }

            Console.Error.WriteLine(line);
        }
    }
}
