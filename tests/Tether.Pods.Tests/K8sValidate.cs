namespace Tether.Pods.Tests;

/// <summary>The offline Kubernetes schema checker (npm kubernetes-models + yaml) in tests/Tether.Pods.Tests/k8s-validate.</summary>
internal static class K8sValidate
{
    private static readonly object s_lock = new();

    /// <summary>Installs the checker's npm packages from its lock file once (npm ci); a clear error without npm.</summary>
    public static string EnsureInstalled()
    {
        string dir = Repo.Path("tests", "Tether.Pods.Tests", "k8s-validate");
        lock (s_lock)
        {
            if (!Directory.Exists(Path.Join(dir, "node_modules", "kubernetes-models")))
            {
                (int code, string output) = Repo.Run("npm", dir, TimeSpan.FromMinutes(5), "ci", "--no-audit", "--no-fund");
                Assert.True(code == 0, $"`npm ci` in {dir} failed (the manifests' schema check needs npm and the npm registry; scripts/test.sh installs npm):\n{output}");
            }
        }

        return dir;
    }
}
