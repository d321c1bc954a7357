namespace Cordon.Supervisor;

/// <summary>
/// Named background threads started before their work is known, and handed it later. .NET's Thread.Start returns
/// only once the new thread runs: on our machines about half a millisecond each, and a view run needs several (the
/// notification loops, the mirror's readers). A run starts them while the launcher execs on another CPU, instead of
/// after it has answered.
/// </summary>
internal sealed class ReadyThreads
{
    private readonly TaskCompletionSource<Action<int>?> work = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread[] threads;

    /// <summary>Starts <paramref name="count"/> threads named <paramref name="name"/>0, 1, ...; each waits for <see cref="Run"/>.</summary>
    public ReadyThreads(string name, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        threads = new Thread[count];
        for (int i = 0; i < count; i++)
        {
            int index = i;
            threads[i] = new Thread(() => work.Task.GetAwaiter().GetResult()?.Invoke(index)) { IsBackground = true, Name = name + i };
        }

        foreach (var t in threads)
        {
            t.Start();
        }
    }

    public int Count => threads.Length;

    /// <summary>Every thread runs <paramref name="body"/> with its index, once. Only the first call counts.</summary>
    public void Run(Action<int> body) => work.TrySetResult(body);

    /// <summary>The threads end without work (the run failed before they were needed). Only the first call counts.</summary>
    public void Release() => work.TrySetResult(null);

    /// <summary>Waits up to <paramref name="timeout"/> for each thread to end.</summary>
    public void Join(TimeSpan timeout)
    {
        foreach (var t in threads)
        {
            t.Join(timeout);
        }
    }
}
