namespace Backprop.Cli.Training;

/// <summary>A model <c>--model</c> can name for a kind of dataset.</summary>
/// <param name="Create">Builds the architecture for a dataset and the hidden widths asked for; null while the model cannot be built.</param>
/// <param name="Unavailable">Why the model cannot be built yet (null when <paramref name="Create"/> is set).</param>
/// <param name="TakesHidden">Whether <c>--hidden</c> shapes the model (an mlp); a model with fixed layers refuses it.</param>
public sealed record ModelEntry(string Name, string Summary, Func<DatasetInfo, IReadOnlyList<int>, ModelArchitecture>? Create, string? Unavailable = null,
    bool TakesHidden = true);
