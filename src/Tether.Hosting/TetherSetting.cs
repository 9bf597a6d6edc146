namespace Tether.Hosting;

/// <summary>One setting of <see cref="TetherOptions"/>: its configuration key, its <c>tether node</c> flag, and what it takes.</summary>
/// <param name="Key">The configuration key, such as <c>Tether:Nats:FailureTimeout</c> (environment: <c>Tether__Nats__FailureTimeout</c>).</param>
/// <param name="Flag">The <c>tether node</c> flag, such as <c>--nats-failure-timeout</c>.</param>
/// <param name="Description">What it means, and the form of its value.</param>
public sealed record TetherSetting(string Key, string Flag, string Description);
