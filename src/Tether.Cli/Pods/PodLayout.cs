using System.Text.Json;

namespace Tether.Cli.Pods;

/// <summary>
/// One layout of the demo's services over pods (deploy/layouts/*.json): the single description from which both the
/// Kubernetes manifests (<see cref="ManifestWriter"/>) and the local network-namespace pods (<see cref="LocalPods"/>) come.
/// </summary>
internal sealed record PodLayout(string Name, string Description, IReadOnlyList<PodSpec> Pods)
{
    /// <summary>The services (roles) of the demo application, in the order a pod's node starts them.</summary>
    public static readonly IReadOnlyList<string> KnownRoles = ["web", "dialogs", "sessions", "supplier"];

    /// <summary>The pod that serves the web page, if any.</summary>
    public PodSpec? WebPod => Pods.FirstOrDefault(p => p.Roles.Contains("web"));

    /// <summary>Finds a layout: a path to a .json file, or a layout name looked up in deploy/layouts above the current folder.</summary>
    public static string Resolve(string layout)
    {
        if (File.Exists(layout))
        {
            return Path.GetFullPath(layout);
        }

        for (DirectoryInfo? dir = new(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Join(dir.FullName, "deploy", "layouts", layout + ".json");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new PodLayoutException($"--layout {layout}: no such file, and no deploy/layouts/{layout}.json in this folder or above it.");
    }

    /// <summary>Reads and checks a layout file; every problem is a <see cref="PodLayoutException"/> naming the file and the place.</summary>
    public static PodLayout Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException ex)
        {
            throw new PodLayoutException($"{path}: {ex.Message}");
        }

        return Parse(text, path);
    }

    public static PodLayout Parse(string json, string source)
    {
        JsonElement root;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            root = doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new PodLayoutException($"{source}:{(ex.LineNumber ?? 0) + 1}:{(ex.BytePositionInLine ?? 0) + 1}: not valid JSON: {ex.Message}");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new PodLayoutException($"{source}: the layout must be a JSON object with \"layout\" and \"pods\".");
        }

        string name = String(root, "layout", source, "$");
        CheckName(name, source, "$.layout");
        string description = root.TryGetProperty("description", out JsonElement d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "";
        if (!root.TryGetProperty("pods", out JsonElement pods) || pods.ValueKind != JsonValueKind.Array || pods.GetArrayLength() == 0)
        {
            throw new PodLayoutException($"{source}: $.pods must be a non-empty array of {{ \"name\": ..., \"roles\": [...] }}.");
        }

        List<PodSpec> list = [];
        HashSet<string> names = [];
        Dictionary<string, string> placed = [];
        int i = 0;
        foreach (JsonElement pod in pods.EnumerateArray())
        {
            string where = $"$.pods[{i}]";
            if (pod.ValueKind != JsonValueKind.Object)
            {
                throw new PodLayoutException($"{source}: {where} must be an object with \"name\" and \"roles\".");
            }

            string podName = String(pod, "name", source, where);
            CheckName(podName, source, where + ".name");
            if (!names.Add(podName))
            {
                throw new PodLayoutException($"{source}: {where}.name: the pod name \"{podName}\" is used twice.");
            }

            if (!pod.TryGetProperty("roles", out JsonElement roles) || roles.ValueKind != JsonValueKind.Array || roles.GetArrayLength() == 0)
            {
                throw new PodLayoutException($"{source}: {where}.roles must be a non-empty array of roles ({string.Join(", ", KnownRoles)}).");
            }

            List<string> podRoles = [];
            int j = 0;
            foreach (JsonElement role in roles.EnumerateArray())
            {
                string roleWhere = $"{where}.roles[{j++}]";
                string? value = role.ValueKind == JsonValueKind.String ? role.GetString() : null;
                if (value is null || !KnownRoles.Contains(value))
                {
                    throw new PodLayoutException($"{source}: {roleWhere}: unknown role {role.GetRawText()}; the roles are {string.Join(", ", KnownRoles)}.");
                }

                if (placed.TryGetValue(value, out string? other))
                {
                    throw new PodLayoutException($"{source}: {roleWhere}: role \"{value}\" is already placed in pod \"{other}\"; a role runs in one pod of a layout.");
                }

                placed[value] = podName;
                podRoles.Add(value);
            }

            list.Add(new PodSpec(podName, podRoles));
            i++;
        }

        string[] missing = KnownRoles.Where(r => !placed.ContainsKey(r)).ToArray();
        if (missing.Length > 0)
        {
            throw new PodLayoutException($"{source}: $.pods: no pod runs {string.Join(", ", missing)}; every role must run in one pod.");
        }

        return new PodLayout(name, description, list);
    }

    private static string String(JsonElement obj, string property, string source, string where)
        => obj.TryGetProperty(property, out JsonElement value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()!
            : throw new PodLayoutException($"{source}: {where}.{property} must be a non-empty string.");

    // Pod names become Kubernetes object names, network-namespace names and node names: DNS-1123 labels, kept short.
    private static void CheckName(string name, string source, string where)
    {
        if (name.Length > 20 || !char.IsAsciiLetterLower(name[0]) || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') || name.EndsWith('-'))
        {
            throw new PodLayoutException($"{source}: {where}: \"{name}\" is not a usable name (lower-case letters, digits and '-', starting with a letter, at most 20 characters).");
        }
    }
}

/// <summary>One pod of a layout: its name and the demo roles its node hosts.</summary>
internal sealed record PodSpec(string Name, IReadOnlyList<string> Roles);

/// <summary>A layout file that cannot be used; the message names the file and the place.</summary>
internal sealed class PodLayoutException(string message) : Exception(message);
