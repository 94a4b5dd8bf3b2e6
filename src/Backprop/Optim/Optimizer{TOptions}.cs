namespace Backprop.Optim;

/// <summary>An optimizer whose groups carry options of type <typeparamref name="TOptions"/>.</summary>
public abstract class Optimizer<TOptions> : Optimizer where TOptions : OptimizerOptions
{
    /// <param name="defaults">Copied; the options of the first group and of groups added without options.</param>
    protected Optimizer(IEnumerable<Tensor> parameters, TOptions defaults, params string[] stateNames) : base(stateNames)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        Defaults = Copy(defaults);
        AddParamGroup(parameters);
    }

    /// <summary>The options new groups start from; <c>Defaults with { LearningRate = … }</c> makes a variant.</summary>
    public TOptions Defaults { get; }

    /// <summary>Adds parameters with their own options (a copy of <paramref name="options"/>, or of <see cref="Defaults"/>).</summary>
    public void AddParamGroup(IEnumerable<Tensor> parameters, TOptions? options = null) => AddGroup(parameters, Copy(options ?? Defaults));

    /// <summary>A group's options as this optimizer's type.</summary>
    protected static TOptions OptionsOf(ParamGroup group) => (TOptions)group.Options;

    private static TOptions Copy(TOptions options) => (TOptions)(options with { });
}
