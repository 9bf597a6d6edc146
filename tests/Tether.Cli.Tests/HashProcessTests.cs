using System.Diagnostics;

namespace Tether.Cli.Tests;

/// <summary>Runs the real command line in its own process.</summary>
public sealed class HashProcessTests
{
    private static (int ExitCode, string Stdout, string Stderr) Run(string? user, params string[] args)
    {
        // The test's own output folder may sit in a directory other users cannot enter; copy the program out.
        string app = Directory.CreateTempSubdirectory("tether-cli-").FullName;
        try
        {
            File.SetUnixFileMode(app, (UnixFileMode)0b111_101_101);
            foreach (string file in Directory.EnumerateFiles(AppContext.BaseDirectory))
            {
                File.Copy(file, Path.Join(app, Path.GetFileName(file)));
            }

            var start = new ProcessStartInfo(user is null ? "dotnet" : "setpriv")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = app,
            };
            if (user is not null)
            {
                foreach (string a in new[] { $"--reuid={user}", $"--regid={user}", "--clear-groups", "dotnet" })
                {
                    start.ArgumentList.Add(a);
                }
            }

            start.ArgumentList.Add(Path.Join(app, "Tether.Cli.dll"));
            foreach (string a in args)
            {
                start.ArgumentList.Add(a);
            }

            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            start.Environment["HOME"] = app;
            using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start the CLI");
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"tether {string.Join(' ', args)} did not finish within 2 minutes");
            }

            return (process.ExitCode, stdout.Result, stderr.Result);
        }
        finally
        {
            Directory.Delete(app, recursive: true);
        }
    }

    [Fact]
    public void Hash_UnreadableFile_ReportsItOnStderrHashesTheRestAndExitsOne()
    {
        Assert.True(File.Exists("/usr/bin/setpriv"), "setpriv (util-linux) is needed to run the CLI as an unprivileged user");
        using var tree = new TempTree();
        tree.Write("ok/one.txt", "one"u8.ToArray());
        tree.Write("ok/two.txt", "two"u8.ToArray());
        string secret = tree.Write("secret.txt", "hidden"u8.ToArray());
        File.SetUnixFileMode(secret, UnixFileMode.None);
        string secretAmongOthers = tree.Write("ok/secret-too.txt", "hidden"u8.ToArray()); // in the same chunk as readable files
        File.SetUnixFileMode(secretAmongOthers, UnixFileMode.None);
        foreach (string dir in Directory.EnumerateDirectories(tree.Root, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        }

        foreach (string file in new[] { "ok/one.txt", "ok/two.txt" })
        {
            File.SetUnixFileMode(Path.Join(tree.Root, file), (UnixFileMode)0b110_100_100);
        }

        (int code, string stdout, string stderr) = Run("65534", "hash", tree.Root);

        Assert.Equal(1, code);
        Assert.Contains("tether hash: secret.txt: Permission denied", stderr, StringComparison.Ordinal);
        Assert.Contains("tether hash: ok/secret-too.txt: Permission denied", stderr, StringComparison.Ordinal);
        Assert.Equal(
            "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed  ok/one.txt\n" +
            "3fc4ccfe745870e2c0d99f71f30ff0656c8dedd41cc1d7d3d376b0dbe685e2f3  ok/two.txt\n",
            stdout);
    }

    [Fact]
    public void Hash_MissingDirectory_SaysSoAndExitsTwo()
    {
        (int code, string stdout, string stderr) = Run(null, "hash", "/nonexistent/tether-test-dir");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("'/nonexistent/tether-test-dir' is not a directory", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Hash_ZeroJobs_IsRejectedWithTheFlagNamed()
    {
        using var tree = new TempTree();
        (int code, _, string stderr) = Run(null, "hash", tree.Root, "--jobs", "0");
        Assert.NotEqual(0, code);
        Assert.Contains("--jobs must be at least 1", stderr, StringComparison.Ordinal);
    }
}
