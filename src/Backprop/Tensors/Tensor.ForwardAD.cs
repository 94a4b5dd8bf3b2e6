namespace Backprop;

public partial class Tensor
{
    /// <summary>
    /// This view's elements read from <paramref name="rootValues"/>, a tensor of its base's shape: how a view's tangent is
    /// rebuilt from its base's after the base was written in place (as <see cref="RebuildViewHistory"/> rebuilds its history).
    /// </summary>
    internal Tensor GatherFromBase(Tensor rootValues) =>
        rootValues.Reshape(-1).IndexSelect(0, PositionsIn(ViewBase!).Reshape(-1)).Reshape(Sizes);
}
