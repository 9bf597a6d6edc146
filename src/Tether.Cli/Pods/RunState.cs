using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tether.Cli.Pods;

/// <summary>
/// What a local run made, kept in its run folder (state.json) and written before each thing is made, so that
/// <c>tether pods down</c> removes it all even after <c>up</c> crashed half-way.
/// </summary>
internal sealed class RunState
{
    public string RunId { get; set; } = "";

    public string Layout { get; set; } = "";

    public List<string> Namespaces { get; set; } = [];

    public List<RunProcess> Processes { get; set; } = [];

    public static string FileIn(string runDir) => Path.Join(runDir, "state.json");

    public static RunState? Read(string runDir)
    {
        string file = FileIn(runDir);
        if (!File.Exists(file))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(file), RunStateJson.Default.RunState);
        }
        catch (JsonException ex)
        {
            throw new LocalPodsException($"{file}: the run's state is damaged ({ex.Message}); remove its namespaces by hand (ip netns list | grep tpod-) and then the file.");
        }
    }

    public void Save(string runDir)
    {
        string file = FileIn(runDir);
        string temp = file + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this, RunStateJson.Default.RunState));
        File.Move(temp, file, overwrite: true);
    }
}

/// <summary>A process a local run started: its pid and its start time (so a reused pid is never killed).</summary>
internal sealed record RunProcess(string Name, string Namespace, int Pid, long StartTime);

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(RunState))]
internal sealed partial class RunStateJson : JsonSerializerContext;
