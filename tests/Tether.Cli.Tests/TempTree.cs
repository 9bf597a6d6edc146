using System.Diagnostics;
using System.Text;

namespace Tether.Cli.Tests;

/// <summary>A directory under the temp folder, readable by every user, removed at the end.</summary>
internal sealed class TempTree : IDisposable
{
    public TempTree()
    {
        Root = Directory.CreateTempSubdirectory("tether-hash-").FullName;
        File.SetUnixFileMode(Root, (UnixFileMode)0b111_101_101);
    }

    public string Root { get; }

    public string Write(string relative, byte[] content)
    {
        string path = Path.Join(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    public void Dispose()
    {
        foreach (string path in Directory.EnumerateFileSystemEntries(Root, "*", SearchOption.AllDirectories))
        {
            if (File.Exists(path) && new FileInfo(path).LinkTarget is null)
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        Directory.Delete(Root, recursive: true);
    }

    /// <summary>What GNU sha256sum prints for every regular file under the root, in byte order of the path.</summary>
    public byte[] Sha256Sum()
    {
        var start = new ProcessStartInfo("bash", ["-c", "find . -type f -print0 | sed -z 's|^\\./||' | LC_ALL=C sort -z | xargs -0 -r sha256sum"])
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash for sha256sum");
        using var output = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(output);
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"sha256sum reference run failed ({process.ExitCode}): {error}");
        }

        return output.ToArray();
    }

    public static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
