namespace Tether.Cli.Hashing;

/// <summary>The results of one job, sent to the collector in one message.</summary>
internal sealed record FilesHashed(HashedFile[] Files);
