using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Tether.Pods.Tests;

/// <summary>Reads manifests as plain maps, and our own checks beyond the schemas.</summary>
internal static class ManifestChecks
{
    private static readonly IDeserializer s_yaml = new DeserializerBuilder().Build();

    public static List<Dictionary<object, object>> Documents(string text)
    {
        var parser = new YamlDotNet.Core.Parser(new StringReader(text));
        parser.Consume<YamlDotNet.Core.Events.StreamStart>();
        List<Dictionary<object, object>> docs = [];
        while (parser.Accept<YamlDotNet.Core.Events.DocumentStart>(out _))
        {
            if (s_yaml.Deserialize<Dictionary<object, object>>(parser) is { } doc)
            {
                docs.Add(doc);
            }
        }

        return docs;
    }

    public static List<Dictionary<object, object>> Folder(string folder)
        => Directory.GetFiles(folder, "*.yaml").Order(StringComparer.Ordinal).SelectMany(f => Documents(File.ReadAllText(f))).ToList();

    public static object? At(object? node, params string[] path)
    {
        foreach (string key in path)
        {
            if (node is not Dictionary<object, object> map || !map.TryGetValue(key, out node))
            {
                return null;
            }
        }

        return node;
    }

    public static string? Str(object? node, params string[] path) => At(node, path) as string;

    public static IEnumerable<Dictionary<object, object>> List(object? node, params string[] path)
        => (At(node, path) as List<object>)?.OfType<Dictionary<object, object>>() ?? [];

    public static IEnumerable<Dictionary<object, object>> OfKind(IEnumerable<Dictionary<object, object>> docs, string kind)
        => docs.Where(d => Str(d, "kind") == kind);

    /// <summary>Every problem our own rules find in one layout's documents (empty when all hold).</summary>
    public static List<string> Check(IReadOnlyList<Dictionary<object, object>> docs)
    {
        List<string> errors = [];
        HashSet<string> secrets = OfKind(docs, "Secret").Select(d => Str(d, "metadata", "name")!).ToHashSet();
        HashSet<string> configMaps = OfKind(docs, "ConfigMap").Select(d => Str(d, "metadata", "name")!).ToHashSet();
        foreach (Dictionary<object, object> workload in docs.Where(d => Str(d, "kind") is "Deployment" or "StatefulSet"))
        {
            string name = $"{Str(workload, "kind")} {Str(workload, "metadata", "name")}";
            object? podSpec = At(workload, "spec", "template", "spec");
            if (At(podSpec, "securityContext", "runAsNonRoot") is not "true")
            {
                errors.Add($"{name}: the pod does not set securityContext.runAsNonRoot: true");
            }

            foreach (Dictionary<object, object> container in List(podSpec, "containers"))
            {
                string where = $"{name} container {Str(container, "name")}";
                foreach (string probe in new[] { "readinessProbe", "livenessProbe" })
                {
                    if (At(container, probe) is null)
                    {
                        errors.Add($"{where}: no {probe}");
                        continue;
                    }

                    if (At(container, probe, "httpGet", "port") is string port)
                    {
                        bool declared = List(container, "ports").Any(p => Str(p, "name") == port || Str(p, "containerPort") == port);
                        if (!declared)
                        {
                            errors.Add($"{where}: {probe} uses port \"{port}\", which the container does not declare");
                        }
                    }
                }

                foreach (string kind in new[] { "requests", "limits" })
                {
                    foreach (string resource in new[] { "cpu", "memory" })
                    {
                        if (Str(container, "resources", kind, resource) is null)
                        {
                            errors.Add($"{where}: no resources.{kind}.{resource}");
                        }
                    }
                }

                if (Str(container, "securityContext", "readOnlyRootFilesystem") != "true")
                {
                    errors.Add($"{where}: the root file system is not read-only");
                }

                if (Str(container, "securityContext", "allowPrivilegeEscalation") != "false")
                {
                    errors.Add($"{where}: allowPrivilegeEscalation is not false");
                }

                foreach (Dictionary<object, object> env in List(container, "env"))
                {
                    if (Str(env, "valueFrom", "secretKeyRef", "name") is { } secret && !secrets.Contains(secret))
                    {
                        errors.Add($"{where}: env {Str(env, "name")} names Secret \"{secret}\", which does not exist");
                    }

                    if (Str(env, "valueFrom", "configMapKeyRef", "name") is { } map && !configMaps.Contains(map))
                    {
                        errors.Add($"{where}: env {Str(env, "name")} names ConfigMap \"{map}\", which does not exist");
                    }
                }

                foreach (Dictionary<object, object> from in List(container, "envFrom"))
                {
                    if (Str(from, "secretRef", "name") is { } secret && !secrets.Contains(secret))
                    {
                        errors.Add($"{where}: envFrom names Secret \"{secret}\", which does not exist");
                    }

                    if (Str(from, "configMapRef", "name") is { } map && !configMaps.Contains(map))
                    {
                        errors.Add($"{where}: envFrom names ConfigMap \"{map}\", which does not exist");
                    }
                }
            }

            foreach (Dictionary<object, object> volume in List(podSpec, "volumes"))
            {
                if (Str(volume, "secret", "secretName") is { } secret && !secrets.Contains(secret))
                {
                    errors.Add($"{name}: volume {Str(volume, "name")} names Secret \"{secret}\", which does not exist");
                }

                if (Str(volume, "configMap", "name") is { } map && !configMaps.Contains(map))
                {
                    errors.Add($"{name}: volume {Str(volume, "name")} names ConfigMap \"{map}\", which does not exist");
                }
            }

            // Every workload is covered by a PodDisruptionBudget whose selector matches its pods.
            var labels = At(workload, "spec", "template", "metadata", "labels") as Dictionary<object, object> ?? [];
            bool covered = OfKind(docs, "PodDisruptionBudget").Any(pdb =>
                At(pdb, "spec", "selector", "matchLabels") is Dictionary<object, object> match
                && match.All(kv => labels.TryGetValue(kv.Key, out object? v) && Equals(v, kv.Value)));
            if (!covered)
            {
                errors.Add($"{name}: no PodDisruptionBudget selects its pods");
            }
        }

        return errors;
    }
}
