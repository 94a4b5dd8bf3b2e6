namespace Backprop.Nn;

/// <summary>What a non-strict <see cref="Module.LoadStateDict"/> left out: the module's keys the dict lacked, and the dict's keys the module lacks.</summary>
public sealed record LoadStateDictResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);
