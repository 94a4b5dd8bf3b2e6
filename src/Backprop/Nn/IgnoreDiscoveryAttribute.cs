namespace Backprop.Nn;

/// <summary>
/// Keeps a field (or auto-property) out of module discovery: what it holds is not a parameter or child of the module
/// that declares it, e.g. a reference to a module owned elsewhere, or a container the module registers by hand.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class IgnoreDiscoveryAttribute : Attribute;
