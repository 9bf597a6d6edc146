using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Tether.Cli.Hashing;

/// <summary>Reads a file to its end and hashes it: in one call when it fits the buffer, incrementally when it does not.</summary>
internal static class FileHasher
{
    public static HashedFile Hash(FileEntry file, Span<byte> buffer, FileOptions options, CancellationToken cancellation = default)
    {
        var result = new HashedFile(file.Path, null);
        try
        {
            using SafeFileHandle handle = File.OpenHandle(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, options);
            Hash(handle, file.Length, buffer, result.Digest, cancellation);
            return result;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new HashedFile(file.Path, DirectoryJob.Describe(ex));
        }
    }

    /// <summary>
    /// Hashes from offset 0 to the end of the file. A read that returns less than asked for and ends exactly at the size
    /// the listing saw is taken as the end (it saves a read that would return 0 on every small file); otherwise it reads
    /// until a read returns 0, so a file that grew or shrank since it was listed is still hashed whole.
    /// </summary>
    internal static void Hash(SafeFileHandle handle, long listedLength, Span<byte> buffer, Span<byte> digest, CancellationToken cancellation = default)
    {
        IncrementalHash? incremental = null;
        try
        {
            long offset = 0;
            int filled = 0;
            while (true)
            {
                int asked = buffer.Length - filled;
                int read = RandomAccess.Read(handle, buffer[filled..], offset);
                if (read == 0)
                {
                    break;
                }

                offset += read;
                filled += read;
                if (read < asked && offset == listedLength)
                {
                    break;
                }

                if (filled == buffer.Length)
                {
                    cancellation.ThrowIfCancellationRequested();
                    incremental ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    incremental.AppendData(buffer);
                    filled = 0;
                }
            }

            if (incremental is null)
            {
                SHA256.HashData(buffer[..filled], digest);
            }
            else
            {
                incremental.AppendData(buffer[..filled]);
                incremental.GetHashAndReset(digest);
            }
        }
        finally
        {
            incremental?.Dispose();
        }
    }
}
