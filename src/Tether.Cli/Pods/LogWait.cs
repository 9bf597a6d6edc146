using System.Diagnostics;

namespace Tether.Cli.Pods;

/// <summary>Waiting for a process of a local pod to be ready: a line in its log file, with a deadline.</summary>
internal static class LogWait
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(60); // dotnet start-up on 2 loaded cores

    public static async Task ForLineAsync(string log, string text, string what, int pid, CancellationToken cancellation)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            if (File.Exists(log))
            {
                using var reader = new StreamReader(new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
                string content = await reader.ReadToEndAsync(cancellation);
                if (content.Contains(text, StringComparison.Ordinal))
                {
                    return;
                }

                if (!Directory.Exists($"/proc/{pid}"))
                {
                    throw new LocalPodsException($"{what} exited before it was ready; its log {log}:\n{Tail(content)}");
                }
            }

            if (Stopwatch.GetElapsedTime(start) > s_deadline)
            {
                string content = File.Exists(log) ? File.ReadAllText(log) : "(no log yet)";
                throw new LocalPodsException($"{what} was not ready within {s_deadline.TotalSeconds} s (waiting for \"{text}\" in {log}):\n{Tail(content)}");
            }

            await Task.Delay(50, cancellation); // polling a log file for a line, with a deadline
        }
    }

    public static async Task ForAnyLineAsync(string[] logs, string text, string what, CancellationToken cancellation)
    {
        long start = Stopwatch.GetTimestamp();
        while (!logs.Any(log => File.Exists(log) && ReadShared(log).Contains(text, StringComparison.Ordinal)))
        {
            if (Stopwatch.GetElapsedTime(start) > s_deadline)
            {
                throw new LocalPodsException($"{what} did not happen within {s_deadline.TotalSeconds} s (no \"{text}\" in {string.Join(", ", logs)})");
            }

            await Task.Delay(50, cancellation); // polling log files for a line, with a deadline
        }
    }

    public static string ReadShared(string file)
    {
        using var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        return reader.ReadToEnd();
    }

    public static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(30));
}
