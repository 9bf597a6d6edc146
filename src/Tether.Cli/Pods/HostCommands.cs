using System.Diagnostics;
using System.Globalization;

namespace Tether.Cli.Pods;

/// <summary>The host commands the local pods run: <c>ip</c>, signals, the processes' start times, and where nats-server and tether are.</summary>
internal static class HostCommands
{
    public static void Ip(params string[] args)
    {
        (int code, string _, string error) = Run("ip", args);
        if (code != 0)
        {
            throw new LocalPodsException($"`ip {string.Join(' ', args)}` failed: {error.Trim()}", error.Contains("Operation not permitted", StringComparison.Ordinal));
        }
    }

    public static (int Code, string Output, string Error) Run(string exe, params string[] args)
    {
        var start = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start) ?? throw new LocalPodsException($"could not run {exe}");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error);
    }

    public static bool KillPid(int pid, bool force)
    {
        if (pid <= 0)
        {
            return false;
        }

        return Tmds.Linux.LibC.kill(pid, force ? Tmds.Linux.LibC.SIGKILL : Tmds.Linux.LibC.SIGTERM) == 0;
    }

    /// <summary>The process's start time in clock ticks since boot (/proc/PID/stat field 22), 0 when it is gone.</summary>
    public static long StartTimeOf(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 0;
        }
    }

    public static string NatsServerExecutable()
    {
        foreach (string candidate in new[] { "/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server" })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new LocalPodsException("nats-server is not installed: apt-get install nats-server (the pods' leaf servers and the hub run it).");
    }

    /// <summary>How to run <c>tether</c> itself: the dotnet host and this assembly (Tether.Cli.dll).</summary>
    public static (string Exe, string[] Prefix) TetherExecutable()
    {
        string dll = Path.Join(AppContext.BaseDirectory, "Tether.Cli.dll");
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (host is null && Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            host = self;
        }

        return (host ?? "dotnet", [dll]);
    }
}
