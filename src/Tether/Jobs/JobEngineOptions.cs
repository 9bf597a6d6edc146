namespace Tether;

/// <summary>Settings of a <see cref="JobEngine"/>.</summary>
public sealed record JobEngineOptions
{
    /// <summary>The defaults: twice the processor count active at once, no progress topic.</summary>
    public static JobEngineOptions Default { get; } = new();

    /// <summary>The most jobs running at once (at least 1).</summary>
    public int MaxActive { get; init; } = Environment.ProcessorCount * 2;

    /// <summary>When set, a <see cref="JobProgress"/> event is published on this topic at most every <see cref="ProgressInterval"/>, and once at the end.</summary>
    public string? ProgressTopic { get; init; }

    /// <summary>The least time between two progress events.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How many failures the summary keeps in full (all are counted).</summary>
    public int MaxFailuresKept { get; init; } = 1000;
}
