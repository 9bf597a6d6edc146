using System.Diagnostics;

namespace Tether.Cli.Tests;

/// <summary>Runs the real <c>tether</c> command line in a process of its own, in a working folder the test chooses.</summary>
internal static class CliProcess
{
    public static (int ExitCode, string Stdout, string Stderr) Run(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(Path.Join(AppContext.BaseDirectory, "Tether.Cli.dll"));
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("Tether__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start the CLI");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();

        // Generous: a bad-input run ends in well under a second, but the 2 shared cores may be busy with builds.
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"tether {string.Join(' ', args)} did not exit within 1 minute; bad input must end the command");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
