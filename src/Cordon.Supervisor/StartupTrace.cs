using System.Diagnostics;
using System.Globalization;

namespace Cordon.Supervisor;

/// <summary>
/// Where a run's start-up goes, for benchmarks (bench/, README "Performance"): with CORDON_TRACE_STARTUP=1 cordon
/// prints "trace MS STEP" to its standard error at each step, MS counted from Main. Off, a step costs one check.
/// </summary>
public static class StartupTrace
{
    private static readonly long Start = Stopwatch.GetTimestamp();
    private static readonly bool On = Environment.GetEnvironmentVariable("CORDON_TRACE_STARTUP") == "1";

    public static void Mark(string step)
    {
        if (On)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trace {Stopwatch.GetElapsedTime(Start).TotalMilliseconds:F2} {step}"));
        }
    }
}
