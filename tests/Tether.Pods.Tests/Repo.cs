using System.Diagnostics;

namespace Tether.Pods.Tests;

/// <summary>Paths in the repository, found from the test's output folder, and running small commands.</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Join([Root, .. parts]);

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Join(dir.FullName, "Tether.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Tether.slnx above {AppContext.BaseDirectory}");
    }

    public static (int Code, string Output) Run(string exe, string workingDirectory, TimeSpan deadline, params string[] args)
    {
        var start = new ProcessStartInfo(exe) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"`{exe}` could not be started ({ex.Message}); install it (scripts/test.sh installs what the tests need).", ex);
        }

        using (process)
        {
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(deadline))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"`{exe} {string.Join(' ', args)}` did not end within {deadline.TotalSeconds} s");
            }

            return (process.ExitCode, output.Result + error.Result);
        }
    }
}
