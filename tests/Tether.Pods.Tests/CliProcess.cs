using System.Diagnostics;

namespace Tether.Pods.Tests;

/// <summary>`tether ...` (Tether.Cli.dll from the test's output folder) as a child process; killed at the end.</summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    public CliProcess(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env = null, string? user = null, string? appDir = null)
    {
        string dir = appDir ?? AppContext.BaseDirectory;
        var start = new ProcessStartInfo(user is null ? "dotnet" : "setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        if (user is not null)
        {
            foreach (string a in new[] { $"--reuid={user}", $"--regid={user}", "--clear-groups", "dotnet" })
            {
                start.ArgumentList.Add(a);
            }
        }

        start.ArgumentList.Add(Path.Join(dir, "Tether.Cli.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach ((string key, string value) in env ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start tether");
        _process.OutputDataReceived += (_, e) => Add(e.Data);
        _process.ErrorDataReceived += (_, e) => Add(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.Add(line);
            }
        }
    }

    public async Task<int> ExitAsync(TimeSpan deadline)
    {
        using var cancel = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"tether did not exit within {deadline.TotalSeconds} s; its output:\n{Output}");
        }

        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
