using System.Reflection;
using Backprop.IO;

namespace Backprop.Optim;

/// <summary>
/// Updates parameters from their gradients. Holds parameter groups (each with its own hyperparameters) and
/// per-parameter state; <see cref="Step"/> applies one update to every parameter that has a gradient.
/// A training step is <c>ZeroGrad(); loss.Backward(); Step();</c>.
/// </summary>
/// <remarks>
/// State saved with <see cref="SaveState"/> (buffers as tensors, step counts and hyperparameters as metadata, in
/// round-trip form) restores exactly: a resumed run continues bit for bit.
/// </remarks>
public abstract class Optimizer : ICheckpointable
{
    private readonly List<ParamGroup> _groups = [];
    private readonly Dictionary<Tensor, ParameterState> _state = new(ReferenceEqualityComparer.Instance);

    /// <param name="stateNames">The names of the per-parameter buffers, in slot order (checkpoint keys).</param>
    protected Optimizer(params string[] stateNames) => StateNames = stateNames;

    /// <summary>The names of the per-parameter buffers, by slot of <see cref="ParameterState"/>.</summary>
    public IReadOnlyList<string> StateNames { get; }

    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>Updates every parameter that has a gradient (parameters whose <c>Grad</c> is null are left alone).</summary>
    public abstract void Step();

    /// <summary>Clears the gradients of all parameters: to null by default (cheaper, and skipped by <see cref="Step"/>), or to zeros.</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var group in _groups)
            for (int i = 0; i < group.Parameters.Count; i++) group.Parameters[i].ZeroGrad(setToNone);
    }

    /// <summary>The state of <paramref name="parameter"/>, or null before its first update.</summary>
    public ParameterState? GetState(Tensor parameter) => _state.GetValueOrDefault(parameter);

    /// <summary>
    /// The state of <paramref name="parameter"/>, created empty (step 0, no buffers) on first use. Buffers made before
    /// the parameter moved (<c>model.To(device)</c> or <c>To(dtype)</c>) are moved to its device and dtype first, as
    /// PyTorch's <c>load_state_dict</c> does with state, so an optimizer made before the move keeps working.
    /// </summary>
    protected ParameterState State(Tensor parameter)
    {
        if (!_state.TryGetValue(parameter, out var state))
        {
            state = new ParameterState(StateNames.Count);
            _state[parameter] = state;
        }
        for (int slot = 0; slot < state.Slots; slot++)
            if (state[slot] is { } buffer && (buffer.Device != parameter.Device || buffer.DType != parameter.DType))
                using (Autograd.NoGrad()) state[slot] = buffer.To(parameter.Device, parameter.DType);
        return state;
    }

    private string Name => GetType().Name;

    /// <summary>A contiguous tensor a fused kernel can update: the parameter itself, or a copy that <see cref="Commit"/> writes back.</summary>
    private protected static Tensor Writable(Tensor parameter) => parameter.IsContiguous ? parameter : parameter.Clone();

    /// <summary>Finishes an in-place update: bumps the parameter's version, or copies the updated copy into it.</summary>
    private protected static void Commit(Tensor parameter, Tensor written, string op)
    {
        if (ReferenceEquals(parameter, written)) parameter.BumpVersion(op);
        else parameter.CopyFrom(written);
    }

    private protected void AddGroup(IEnumerable<Tensor> parameters, OptimizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = parameters.ToList();
        if (list.Count == 0) throw new ArgumentException($"{Name}: a parameter group needs at least one parameter.");
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var p in list)
        {
            if (!p.IsLeaf)
                throw new ArgumentException($"{Name}: can only optimize leaf tensors; a tensor of shape {p.Shape} was computed by {p.GradFn!.Name}.");
            if (!p.DType.IsFloatingPoint())
                throw new ArgumentException($"{Name}: can only optimize floating-point tensors; got {p.DType.DisplayName()} of shape {p.Shape}.");
            if (!seen.Add(p) || _groups.Exists(g => g.Parameters.Contains(p, ReferenceEqualityComparer.Instance)))
                throw new ArgumentException($"{Name}: a parameter of shape {p.Shape} appears twice; each parameter may be in one group once.");
        }
        options.Validate(Name);
        _groups.Add(new ParamGroup(list.AsReadOnly(), options));
    }

    // ---- checkpoints ----

    /// <summary>
    /// Writes the hyperparameters of every group and the state of every parameter (by position across groups, as
    /// PyTorch does) under <paramref name="prefix"/>. Buffers are copied, so training on does not change the checkpoint.
    /// </summary>
    public void SaveState(Checkpoint checkpoint, string prefix)
    {
        checkpoint.Metadata[prefix + "type"] = Name;
        CheckpointValues.Write(checkpoint, prefix + "param_groups", _groups.Count);
        int index = 0;
        using var noGrad = Autograd.NoGrad();
        for (int g = 0; g < _groups.Count; g++)
        {
            var group = _groups[g];
            string groupKey = $"{prefix}param_groups.{g}.";
            CheckpointValues.Write(checkpoint, groupKey + "params", group.Parameters.Count);
            foreach (var (name, property) in OptionProperties(group.Options.GetType()))
                CheckpointValues.WriteAs(checkpoint, groupKey + name, property.GetValue(group.Options)!);
            if (group.InitialLearningRate is { } initial) CheckpointValues.Write(checkpoint, groupKey + "initial_learning_rate", initial);
            foreach (var p in group.Parameters)
            {
                if (_state.TryGetValue(p, out var state))
                {
                    string stateKey = $"{prefix}state.{index}.";
                    CheckpointValues.Write(checkpoint, stateKey + "step", state.Step);
                    for (int slot = 0; slot < StateNames.Count; slot++)
                        if (state[slot] is { } buffer) checkpoint.Tensors[stateKey + StateNames[slot]] = buffer.Detach().Clone();
                }
                index++;
            }
        }
    }

    /// <summary>
    /// Restores what <see cref="SaveState"/> wrote for an optimizer of the same type over parameters of the same
    /// shapes, in the same groups. Everything is checked before anything changes.
    /// </summary>
    public void LoadState(Checkpoint checkpoint, string prefix)
    {
        var type = CheckpointValues.Read(checkpoint, prefix + "type", Name);
        if (type != Name) throw new InvalidOperationException($"{Name}.LoadState: the checkpoint at '{prefix}' holds {type} state.");
        long groups = CheckpointValues.ReadLong(checkpoint, prefix + "param_groups", Name);
        if (groups != _groups.Count)
            throw new InvalidOperationException($"{Name}.LoadState: the checkpoint has {groups} parameter groups; this optimizer has {_groups.Count}.");

        var apply = new List<Action>();
        var states = new Dictionary<Tensor, ParameterState>(ReferenceEqualityComparer.Instance);
        int index = 0;
        for (int g = 0; g < _groups.Count; g++)
        {
            var group = _groups[g];
            string groupKey = $"{prefix}param_groups.{g}.";
            long count = CheckpointValues.ReadLong(checkpoint, groupKey + "params", Name);
            if (count != group.Parameters.Count)
                throw new InvalidOperationException($"{Name}.LoadState: group {g} has {count} parameters in the checkpoint and {group.Parameters.Count} here.");
            foreach (var (name, property) in OptionProperties(group.Options.GetType()))
            {
                var value = CheckpointValues.ReadAs(property.PropertyType, checkpoint, groupKey + name, Name);
                apply.Add(() => property.SetValue(group.Options, value));
            }
            double? initial = checkpoint.Metadata.ContainsKey(groupKey + "initial_learning_rate")
                ? CheckpointValues.ReadDouble(checkpoint, groupKey + "initial_learning_rate", Name)
                : null;
            apply.Add(() => group.InitialLearningRate = initial);
            foreach (var p in group.Parameters)
            {
                if (ReadParameterState(checkpoint, $"{prefix}state.{index}.", p) is { } state) states[p] = state;
                index++;
            }
        }
        foreach (var action in apply) action();
        _state.Clear();
        foreach (var (p, state) in states) _state[p] = state;
    }

    private ParameterState? ReadParameterState(Checkpoint checkpoint, string key, Tensor parameter)
    {
        bool hasStep = checkpoint.Metadata.ContainsKey(key + "step");
        var state = new ParameterState(StateNames.Count);
        bool any = false;
        for (int slot = 0; slot < StateNames.Count; slot++)
        {
            if (!checkpoint.Tensors.TryGetValue(key + StateNames[slot], out var saved)) continue;
            if (saved.Shape != parameter.Shape)
                throw new ShapeMismatchException($"{Name}.LoadState", $"'{key + StateNames[slot]}' has shape {saved.Shape}; its parameter has shape {parameter.Shape}");
            using (Autograd.NoGrad()) state[slot] = saved.Detach().To(parameter.DType).To(parameter.Device).Clone();
            any = true;
        }
        if (!hasStep)
        {
            if (any) throw new KeyNotFoundException($"{Name}.LoadState: the checkpoint has buffers under '{key}' but no '{key}step'.");
            return null;
        }
        state.Step = CheckpointValues.ReadLong(checkpoint, key + "step", Name);
        return state;
    }

    private static IEnumerable<(string Name, PropertyInfo Property)> OptionProperties(Type optionsType) =>
        optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0 && CheckpointValues.IsScalar(p.PropertyType))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => (Nn.Module.ToSnakeCase(p.Name), p));
}
