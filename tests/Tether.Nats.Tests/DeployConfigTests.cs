using System.Diagnostics;

namespace Tether.Nats.Tests;

public sealed class DeployConfigTests
{
    public static TheoryData<string> Files()
    {
        string dir = Path.GetFullPath(Path.Join(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "deploy", "nats"));
        var data = new TheoryData<string>();
        foreach (string file in Directory.EnumerateFiles(dir, "*.conf").Order(StringComparer.Ordinal))
        {
            data.Add(file);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void DeployConfig_IsAcceptedByNatsServer(string file)
    {
        var start = new ProcessStartInfo(NatsServer.Executable) { ArgumentList = { "-t", "-c", file }, RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(10_000), $"nats-server -t -c {file} did not finish");
        Assert.True(process.ExitCode == 0, $"{Path.GetFileName(file)} is not valid: {output}");
        Assert.Contains("is valid", output, StringComparison.Ordinal);
    }

    [Fact]
    public void DeployConfigs_CoverClusterLeafAndSuperCluster()
        => Assert.Equal(6, Files().Count);
}
