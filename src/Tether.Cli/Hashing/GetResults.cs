namespace Tether.Cli.Hashing;

/// <summary>Asks the collector for everything it gathered.</summary>
internal sealed record GetResults : IRequest<List<HashedFile>>
{
    public static readonly GetResults Instance = new();
}
