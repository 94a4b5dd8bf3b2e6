namespace Backprop.Cli.Training;

/// <summary>What one sample of a dataset is, which decides the models that fit it.</summary>
public enum DatasetKind
{
    /// <summary>A vector of numeric features (the 2-D sets).</summary>
    Table,

    /// <summary>A single-channel image (MNIST).</summary>
    Images,
}
