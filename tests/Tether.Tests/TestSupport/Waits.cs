namespace Tether.Tests.TestSupport;

/// <summary>Deadlines for awaits in tests; every wait names the phase it is waiting for.</summary>
internal static class Waits
{
    /// <summary>Generous: only a hung runtime takes this long, so hitting it is a failure, not a slow machine.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(15);

    public static async Task Within(this Task task, string phase, TimeSpan? deadline = null)
    {
        TimeSpan limit = deadline ?? Default;
        try
        {
            await task.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out after {limit.TotalSeconds:0.#} s waiting for: {phase}.");
        }
    }

    public static async Task<T> Within<T>(this Task<T> task, string phase, TimeSpan? deadline = null)
    {
        TimeSpan limit = deadline ?? Default;
        try
        {
            return await task.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out after {limit.TotalSeconds:0.#} s waiting for: {phase}.");
            throw;
        }
    }

    public static Task<T> Within<T>(this ValueTask<T> task, string phase, TimeSpan? deadline = null)
        => task.AsTask().Within(phase, deadline);

    /// <summary>Awaits a request that must fail with a <see cref="TetherException"/> of <paramref name="code"/>; returns the error.</summary>
    public static async Task<TetherException> FailsWith<T>(this ValueTask<T> task, string code, string phase, TimeSpan? deadline = null)
    {
        Task<T> pending = task.AsTask();
        try
        {
            T value = await pending.Within(phase, deadline);
            Assert.Fail($"{phase}: expected error \"{code}\" but the request succeeded with {value}.");
            throw new InvalidOperationException("unreachable");
        }
        catch (TetherException ex)
        {
            Assert.True(code == ex.Code, $"{phase}: expected error \"{code}\" but got \"{ex.Code}\": {ex.Message}");
            return ex;
        }
    }

    /// <summary>A signal to set up before acting; continuations never run inline on the thread that sets it.</summary>
    public static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static TaskCompletionSource<T> NewSignal<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
