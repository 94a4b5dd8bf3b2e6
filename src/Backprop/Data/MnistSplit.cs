namespace Backprop.Data;

/// <summary>Which half of MNIST to load.</summary>
public enum MnistSplit
{
    Train,
    Test,
}
