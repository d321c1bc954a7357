using Cordon.Interop;

namespace Cordon.Supervisor;

/// <summary>
/// Named background threads started before their work is known, and handed it later. A view run needs several (the
/// notification loops, the mirror's readers): it starts one of each while the launcher works on another CPU, and
/// the rest (<see cref="Grow"/>) once the program has run for a while. They are <see cref="NativeThread"/>s: starting
/// one does not wait for it to run.
/// </summary>
internal sealed class ReadyThreads
{
    private readonly TaskCompletionSource<Action?> work = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string name;
    private readonly object gate = new();
    private int started;
    private int running;

    /// <summary>Starts <paramref name="count"/> threads named <paramref name="name"/>0, 1, ...; each waits for <see cref="Run"/>.</summary>
    public ReadyThreads(string name, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        this.name = name;
        Grow(count);
    }

    /// <summary>Starts more threads, up to <paramref name="count"/> in all; they run the work at once if it was given.</summary>
    public void Grow(int count)
    {
        lock (gate)
        {
            for (; started < count; started++)
            {
                running++;
                NativeThread.Start(name + started, Body);
            }
        }
    }

    /// <summary>Every thread runs <paramref name="body"/>, once. Only the first call counts.</summary>
    public void Run(Action body) => work.TrySetResult(body);

    /// <summary>The threads end without work (the run failed before they were needed). Only the first call counts.</summary>
    public void Release() => work.TrySetResult(null);

    /// <summary>Waits up to <paramref name="timeout"/> in all for every thread to end.</summary>
    public void Join(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (gate)
        {
            while (running > 0 && deadline - DateTime.UtcNow is { Ticks: > 0 } left)
            {
                Monitor.Wait(gate, left);
            }
        }
    }

    private void Body()
    {
        try
        {
            work.Task.GetAwaiter().GetResult()?.Invoke();
        }
        finally
        {
            lock (gate)
            {
                running--;
                Monitor.PulseAll(gate);
            }
        }
    }
}
