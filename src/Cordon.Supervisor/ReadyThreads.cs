namespace Cordon.Supervisor;

/// <summary>
/// Named background threads started before their work is known, and handed it later. .NET's Thread.Start returns
/// only once the new thread runs: on our machines about half a millisecond each, and a view run needs several (the
/// notification loops, the mirror's readers). A run starts one of each while the launcher works on another CPU,
/// and the rest (<see cref="Grow"/>) once the program is on its way.
/// </summary>
internal sealed class ReadyThreads
{
    private readonly TaskCompletionSource<Action?> work = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Thread> threads = [];
    private readonly string name;

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
        var started = new List<Thread>();
        lock (threads)
        {
            for (int i = threads.Count; i < count; i++)
            {
                var t = new Thread(() => work.Task.GetAwaiter().GetResult()?.Invoke()) { IsBackground = true, Name = name + i };
                threads.Add(t);
                started.Add(t);
            }
        }

        foreach (var t in started)
        {
            t.Start();
        }
    }

    /// <summary>Every thread runs <paramref name="body"/>, once. Only the first call counts.</summary>
    public void Run(Action body) => work.TrySetResult(body);

    /// <summary>The threads end without work (the run failed before they were needed). Only the first call counts.</summary>
    public void Release() => work.TrySetResult(null);

    /// <summary>Waits up to <paramref name="timeout"/> for each thread to end.</summary>
    public void Join(TimeSpan timeout)
    {
        Thread[] all;
        lock (threads)
        {
            all = [.. threads];
        }

        foreach (var t in all)
        {
            t.Join(timeout);
        }
    }
}
