namespace Tether.Cli.Pods;

/// <summary>The local pods could not be brought up or down; <see cref="IsPermission"/> when the rights are missing.</summary>
internal sealed class LocalPodsException(string message, bool isPermission = false) : Exception(message)
{
    public bool IsPermission { get; } = isPermission;
}
