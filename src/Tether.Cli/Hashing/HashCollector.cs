namespace Tether.Cli.Hashing;

/// <summary>Gathers results from the jobs (one turn at a time, so a plain list is safe).</summary>
internal sealed class HashCollector : Target, ITarget<HashCollector>
{
    private readonly List<HashedFile> _results = [];

    public static void Wire(Channels<HashCollector> channels) => channels
        .On<FilesHashed>(static (self, m, _) => self._results.AddRange(m.Files))
        .Request<GetResults, List<HashedFile>>(static (self, _, _) => self._results);
}
