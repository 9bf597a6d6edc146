using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Tether.Cli.Hashing;

/// <summary>
/// Tells regular files from FIFOs, sockets and devices, which .NET lists as plain files (the same attributes, length 0).
/// `find -type f` skips them; opening a FIFO would block the command forever.
/// </summary>
internal static class FileKind
{
    /// <summary>
    /// False for anything but a regular file. Only entries listed with length 0 need asking: every special file is.
    /// When the type cannot be read, true: opening the file then reports the error the way sha256sum does.
    /// </summary>
    public static unsafe bool IsRegularOrUnknown(string path)
    {
        int length = Encoding.UTF8.GetByteCount(path);
        Span<byte> name = length < 1024 ? stackalloc byte[length + 1] : new byte[length + 1];
        Encoding.UTF8.GetBytes(path, name);
        name[length] = 0;
        stat status;
        fixed (byte* p = name)
        {
            if (lstat(p, &status) != 0)
            {
                return true;
            }
        }

        return S_ISREG(status.st_mode);
    }
}
