using Tether.Cli.Pods;

namespace Tether.Pods.Tests;

public sealed class ManifestTests
{
    private static readonly string[] s_layouts = ["one-pod", "two-pod", "three-pod"];

    public static readonly TheoryData<string> Layouts = new(s_layouts);

    private static PodLayout Load(string layout) => PodLayout.Load(Repo.Path("deploy", "layouts", layout + ".json"));

    [Theory]
    [MemberData(nameof(Layouts))]
    public void CheckedInManifests_AreWhatTheLayoutGenerates(string layout)
    {
        string folder = Repo.Path("deploy", "k8s", layout);
        IReadOnlyList<(string File, string Text)> generated = ManifestWriter.Write(Load(layout));
        Assert.Equal(generated.Select(g => g.File).Order(StringComparer.Ordinal), Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach ((string file, string text) in generated)
        {
            string checkedIn = File.ReadAllText(Path.Join(folder, file));
            Assert.True(text == checkedIn, $"deploy/k8s/{layout}/{file} differs from what deploy/layouts/{layout}.json generates: run `./tether pods manifests --layout {layout}` and commit the result");
        }
    }

    [Fact]
    public void ManifestsCommand_WritesTheLayoutsFiles()
    {
        string dir = Directory.CreateTempSubdirectory("tether-manifests-").FullName;
        try
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            Assert.Equal(0, PodsCommand.Manifests(Repo.Path("deploy", "layouts", "two-pod.json"), dir, stdout, stderr));
            Assert.Equal(["config.yaml", "kustomization.yaml", "nats-hub.yaml", "pod-backend.yaml", "pod-web.yaml"], Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.Equal(1, PodsCommand.Manifests(Path.Join(dir, "missing.json"), dir, stdout, stderr));
            Assert.Contains("missing.json", stderr.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Layouts_DifferOnlyInWhichRolesRunInWhichPod()
    {
        Dictionary<string, List<Dictionary<object, object>>> docs = s_layouts.ToDictionary(l => l, l => ManifestChecks.Folder(Repo.Path("deploy", "k8s", l)));
        string Shared(List<Dictionary<object, object>> d)
            => string.Join("\n", d.Where(x => ManifestChecks.Str(x, "kind") is "ConfigMap" or "Secret" or "StatefulSet" or "Service" && ManifestChecks.Str(x, "metadata", "name") != "tether-web")
                .Select(x => new YamlDotNet.Serialization.SerializerBuilder().Build().Serialize(x)));
        string reference = Shared(docs["one-pod"]);
        Assert.Contains("tether-config", reference, StringComparison.Ordinal);
        foreach ((string layout, List<Dictionary<object, object>> d) in docs)
        {
            Assert.True(reference == Shared(d), $"{layout}: the shared configuration (ConfigMaps, Secrets, NATS hub) differs from one-pod's");
            string[] images = ManifestChecks.OfKind(d, "Deployment")
                .SelectMany(dep => ManifestChecks.List(dep, "spec", "template", "spec", "containers"))
                .Select(c => ManifestChecks.Str(c, "image")!).Distinct().Order(StringComparer.Ordinal).ToArray();
            Assert.Equal([ManifestWriter.NatsImage, ManifestWriter.Image], images);
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Manifests_PassOurOwnChecks(string layout)
    {
        List<Dictionary<object, object>> docs = ManifestChecks.Folder(Repo.Path("deploy", "k8s", layout));
        Assert.Empty(ManifestChecks.Check(docs));

        // The picture the issue asks for: a three-replica JetStream hub behind a headless Service; per pod the node
        // and a nats leaf sidecar, the node on the pod's 127.0.0.1:4222.
        Dictionary<object, object> hub = Assert.Single(ManifestChecks.OfKind(docs, "StatefulSet"));
        Assert.Equal("3", ManifestChecks.Str(hub, "spec", "replicas"));
        Assert.Contains(ManifestChecks.OfKind(docs, "Service"), s => ManifestChecks.Str(s, "spec", "clusterIP") == "None" && ManifestChecks.Str(s, "metadata", "name") == ManifestChecks.Str(hub, "spec", "serviceName"));
        string hubConf = ManifestChecks.Str(Assert.Single(ManifestChecks.OfKind(docs, "ConfigMap"), c => ManifestChecks.Str(c, "metadata", "name") == ManifestWriter.HubConfigMapName), "data", "hub.conf")!;
        Assert.Contains("jetstream", hubConf, StringComparison.Ordinal);
        string leafConf = ManifestChecks.Str(Assert.Single(ManifestChecks.OfKind(docs, "ConfigMap"), c => ManifestChecks.Str(c, "metadata", "name") == ManifestWriter.LeafConfigMapName), "data", "leaf.conf")!;
        Assert.Contains("listen: 127.0.0.1:4222", leafConf, StringComparison.Ordinal);
        Dictionary<object, object> config = Assert.Single(ManifestChecks.OfKind(docs, "ConfigMap"), c => ManifestChecks.Str(c, "metadata", "name") == ManifestWriter.ConfigMapName);
        Assert.Equal("nats://127.0.0.1:4222", ManifestChecks.Str(config, "data", "Tether__Nats__Url"));
        Assert.Equal(Load(layout).Pods.Count, ManifestChecks.OfKind(docs, "Deployment").Count());
        foreach (Dictionary<object, object> deployment in ManifestChecks.OfKind(docs, "Deployment"))
        {
            string[] containers = ManifestChecks.List(deployment, "spec", "template", "spec", "containers").Select(c => ManifestChecks.Str(c, "image")!).ToArray();
            Assert.Equal([ManifestWriter.Image, ManifestWriter.NatsImage], containers);
        }
    }

    [Fact]
    public void OwnChecks_FindAMissingProbeAnUndeclaredPortAMissingLimitAndAnUnknownSecret()
    {
        string text = File.ReadAllText(Repo.Path("deploy", "k8s", "three-pod", "pod-web.yaml"))
            .Replace("readinessProbe:", "notAProbe:", StringComparison.Ordinal)
            .Replace("port: leaf-monitor", "port: nowhere", StringComparison.Ordinal)
            .Replace("memory: 512Mi", "storage: 1Gi", StringComparison.Ordinal)
            .Replace("name: tether-nats-credentials", "name: no-such-secret", StringComparison.Ordinal);
        List<Dictionary<object, object>> docs = [.. ManifestChecks.Documents(text), .. ManifestChecks.Documents(File.ReadAllText(Repo.Path("deploy", "k8s", "three-pod", "config.yaml")))];
        List<string> errors = ManifestChecks.Check(docs);
        Assert.Contains(errors, e => e.Contains("container node: no readinessProbe", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("uses port \"nowhere\", which the container does not declare", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("container node: no resources.limits.memory", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("names Secret \"no-such-secret\", which does not exist", StringComparison.Ordinal));
    }

    [Fact]
    public void Manifests_ValidAgainstTheKubernetesSchemas_AndABrokenOneIsNot()
    {
        string tool = K8sValidate.EnsureInstalled();
        string[] files = s_layouts.SelectMany(l => Directory.GetFiles(Repo.Path("deploy", "k8s", l), "*.yaml")).Order(StringComparer.Ordinal).ToArray();
        (int code, string output) = Repo.Run("node", tool, TimeSpan.FromMinutes(2), ["validate.mjs", .. files]);
        Assert.True(code == 0, $"kubernetes-models found invalid manifests:\n{output}");
        Assert.Equal(s_layouts.Sum(l => ManifestChecks.Folder(Repo.Path("deploy", "k8s", l)).Count(d => ManifestChecks.Str(d, "kind") != "Kustomization")), output.Split('\n').Count(line => line.StartsWith("ok ", StringComparison.Ordinal)));

        string broken = Path.Join(Directory.CreateTempSubdirectory("tether-k8s-").FullName, "broken.yaml");
        try
        {
            File.WriteAllText(broken, File.ReadAllText(Repo.Path("deploy", "k8s", "three-pod", "pod-web.yaml")).Replace("containerPort: 8081", "containerPort: health-port", StringComparison.Ordinal));
            (int brokenCode, string brokenOutput) = Repo.Run("node", tool, TimeSpan.FromMinutes(2), "validate.mjs", broken);
            Assert.Equal(1, brokenCode);
            Assert.Contains("containerPort must be integer", brokenOutput, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(broken)!, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void LocalPlan_MatchesTheManifests(string layout)
    {
        // The local run builds each pod's node with the same function as the manifests; compare what each makes.
        PodLayout plan = Load(layout);
        List<Dictionary<object, object>> docs = ManifestChecks.Folder(Repo.Path("deploy", "k8s", layout));
        Dictionary<object, object> config = Assert.Single(ManifestChecks.OfKind(docs, "ConfigMap"), c => ManifestChecks.Str(c, "metadata", "name") == ManifestWriter.ConfigMapName);
        string[] modules = ["/somewhere/App.dll"];
        Dictionary<string, Dictionary<object, object>> deployments = ManifestChecks.OfKind(docs, "Deployment").ToDictionary(d => ManifestChecks.Str(d, "metadata", "labels", ManifestWriter.PodLabel)!);
        Assert.Equal(plan.Pods.Select(p => p.Name).Order(StringComparer.Ordinal), deployments.Keys.Order(StringComparer.Ordinal));
        foreach (PodSpec pod in plan.Pods)
        {
            PodProcess local = LocalPods.PlanNode(pod, modules, $"{pod.Name}-1", "/run/data");
            Dictionary<object, object> node = ManifestChecks.List(deployments[pod.Name], "spec", "template", "spec", "containers").First();
            var args = ((List<object>)ManifestChecks.At(node, "args")!).Cast<string>().ToArray();
            Assert.Equal(local.Args.Select(a => a == modules[0] ? "MODULE" : a), args.Select(a => PodCommandLine.DefaultImageModules.Contains(a) ? "MODULE" : a));
            Assert.Equal(local.SharedEnvironment.OrderBy(kv => kv.Key, StringComparer.Ordinal), ((Dictionary<object, object>)ManifestChecks.At(config, "data")!).Select(kv => new KeyValuePair<string, string>((string)kv.Key, (string)kv.Value)).OrderBy(kv => kv.Key, StringComparer.Ordinal));
            Dictionary<string, string> env = ManifestChecks.List(node, "env").Where(e => ManifestChecks.Str(e, "value") is not null).ToDictionary(e => ManifestChecks.Str(e, "name")!, e => ManifestChecks.Str(e, "value")!);
            foreach ((string key, string value) in local.PodEnvironment.Where(kv => kv.Key is not ("Tether__Name" or "Tether__Demo__DataFolder")))
            {
                Assert.Equal(value, env.GetValueOrDefault(key));
            }

            // The data folder is a place on the pod's host: the pod's writable /tmp volume, the run's folder locally.
            Assert.Equal("/run/data", local.PodEnvironment["Tether__Demo__DataFolder"]);
            Assert.Equal(PodCommandLine.ImageDataFolder, env["Tether__Demo__DataFolder"]);

            Assert.Equal(string.Join(',', pod.Roles), env["Tether__Demo__Roles"]);
        }
    }

    [Theory]
    [InlineData("""{ "layout": "x", "pods": [] }""", "$.pods must be a non-empty array")]
    [InlineData("""{ "layout": "x", "pods": [ { "name": "a", "roles": ["web", "dialogs", "sessions"] } ] }""", "no pod runs supplier")]
    [InlineData("""{ "layout": "x", "pods": [ { "name": "a", "roles": ["web", "dialogs", "sessions", "supplier", "cache"] } ] }""", "$.pods[0].roles[4]: unknown role \"cache\"")]
    [InlineData("""{ "layout": "x", "pods": [ { "name": "a", "roles": ["web", "dialogs"] }, { "name": "b", "roles": ["web", "sessions", "supplier"] } ] }""", "$.pods[1].roles[0]: role \"web\" is already placed in pod \"a\"")]
    [InlineData("""{ "layout": "x", "pods": [ { "name": "Web Pod", "roles": ["web", "dialogs", "sessions", "supplier"] } ] }""", "$.pods[0].name: \"Web Pod\" is not a usable name")]
    [InlineData("""{ "layout": "x", "pods": [ { "name": "a", "roles": ["web"] }, ] """, "layout.json:1:")]
    public void BadLayout_IsAClearErrorNamingThePlace(string json, string expected)
    {
        PodLayoutException error = Assert.Throws<PodLayoutException>(() => PodLayout.Parse(json, "layout.json"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
