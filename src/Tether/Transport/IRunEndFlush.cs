namespace Tether.Transport;

/// <summary>Work a transport put off until the current run on this thread ends (see <see cref="RunScope.TryDeferFlush"/>).</summary>
public interface IRunEndFlush
{
    /// <summary>Called once on the thread whose run ended, after the last handler of the run.</summary>
    void FlushAtRunEnd();
}
