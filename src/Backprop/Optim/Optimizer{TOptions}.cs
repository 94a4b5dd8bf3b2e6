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

    /// <summary>The name in-place errors show for this optimizer's writes (e.g. "Adam.Step").</summary>
    protected virtual string StepName => GetType().Name + ".Step";

    /// <summary>
    /// Updates every parameter that has a gradient, group by group: counts the step in its state, then lets
    /// <see cref="Update"/> run the fused kernel on a contiguous target, and commits the result.
    /// </summary>
    public sealed override void Step()
    {
        using var noGrad = Autograd.NoGrad();
        // Index loops: enumerating the lists through their interfaces would allocate on every step.
        var groups = ParamGroups;
        for (int gi = 0; gi < groups.Count; gi++)
        {
            var group = groups[gi];
            var options = OptionsOf(group);
            var parameters = group.Parameters;
            for (int pi = 0; pi < parameters.Count; pi++)
            {
                var p = parameters[pi];
                if (p.Grad is not { } grad) continue;
                var state = State(p);
                state.Step++;
                var target = Writable(p);
                Update(target, grad.Contiguous(), state, options);
                Commit(p, target, StepName);
                foreach (var buffer in state.Buffers) buffer?.BumpVersion(StepName);
            }
        }
    }

    /// <summary>
    /// One parameter's update: <paramref name="target"/> is the contiguous tensor to write (the parameter or a copy),
    /// <paramref name="state"/> its buffers, already counting this step.
    /// </summary>
    protected abstract void Update(Tensor target, Tensor grad, ParameterState state, TOptions options);

    private static TOptions Copy(TOptions options) => (TOptions)(options with { });
}
