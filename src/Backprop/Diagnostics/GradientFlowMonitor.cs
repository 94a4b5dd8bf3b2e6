using Backprop.Nn;

namespace Backprop.Diagnostics;

/// <summary>
/// Watches the gradients of a model while it trains: per parameter and per backward pass, the gradient's norm, mean,
/// standard deviation and fraction of exact zeros; per layer, the size (root mean square) of the gradient arriving at
/// its output, the backpropagated error δ; per ReLU layer, the fraction of units that output zero for the whole batch;
/// per recurrent layer (<see cref="Rnn"/>, <see cref="Lstm"/>, <see cref="Gru"/>), the gradient ‖∂L/∂h_t‖ reaching its
/// hidden state at every time step t. <see cref="Report"/> turns them into per-layer figures with flags for vanishing
/// (across layers and through time), exploding and dead units.
/// </summary>
/// <remarks>
/// It hooks each parameter's gradient (seen as it arrives, before it is added to <c>Grad</c>, so it is this backward
/// pass's gradient even when <c>ZeroGrad</c> was forgotten, which it also notices) and the forward pass of every
/// <see cref="Relu"/> module. Nothing changes in the training loop: attach, train, report, dispose.
/// <code>
/// using var monitor = GradientFlowMonitor.Attach(model);
/// for (…) { optimizer.ZeroGrad(); loss = …; loss.Backward(); optimizer.Step(); }
/// Console.WriteLine(monitor.Report().ToText());
/// </code>
/// </remarks>
public sealed class GradientFlowMonitor : IDisposable
{
    private readonly List<RemovableHandle> _handles = [];
    private readonly List<WatchedParameter> _parameters = [];
    private readonly List<WatchedLayer> _layers = [];
    private readonly List<WatchedSteps> _sequences = [];
    private bool _disposed;
    private int _pass = int.MinValue;
    private int _steps;

    private GradientFlowMonitor(GradientFlowOptions options) => Options = options;

    public GradientFlowOptions Options { get; }

    /// <summary>Backward passes seen so far.</summary>
    public int Steps => _steps;

    /// <summary>Starts watching every parameter that requires grad and every ReLU module of <paramref name="model"/>.</summary>
    public static GradientFlowMonitor Attach(Module model, GradientFlowOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var monitor = new GradientFlowMonitor(options ?? new GradientFlowOptions());
        var parameters = model.NamedParameters().Where(p => p.Parameter.RequiresGrad).ToList();
        foreach (var (path, module) in model.NamedModules())
        {
            var own = parameters.Where(p => Owner(p.Name) == path).ToList();
            if (own.Count == 0 && module is not Relu) continue;
            var layer = new WatchedLayer(path.Length == 0 ? "(model)" : path, module.GetType().Name, own.Select(p => p.Name).ToList());
            monitor._layers.Add(layer);
            foreach (var (name, parameter) in own)
            {
                var watched = new WatchedParameter(name, layer, parameter);
                layer.Parameters.Add(watched);
                monitor._parameters.Add(watched);
                var accumulator = parameter.GradEdge!;
                monitor._handles.Add(parameter.RegisterHook(g =>
                {
                    monitor.OnGradient(watched, accumulator.VisitStamp, g);
                    return null;
                }));
            }
            if (module is Relu relu)
                monitor._handles.Add(relu.RegisterForwardHook((m, _, output) => monitor.OnReluOutput(layer, m, output)));
            else if (module is Module<Tensor, Tensor> tensorModule)
                monitor._handles.Add(tensorModule.RegisterForwardHook((_, _, output) => monitor.OnLayerOutput(layer, output)));
            if (module is RecurrentLayer recurrent)
            {
                // Chained to an observer already set, which gets it back on Dispose.
                var previous = recurrent.StepObserver;
                recurrent.StepObserver = previous + monitor.ObserveSteps(layer.Name, layer.Type);
                monitor._handles.Add(new RemovableHandle(() => recurrent.StepObserver = previous));
            }
        }
        if (monitor._parameters.Count == 0)
            throw new ArgumentException("GradientFlowMonitor: the model has no parameters that require grad, so there are no gradients to watch.");
        return monitor;
    }

    private static string Owner(string parameterName)
    {
        int dot = parameterName.LastIndexOf('.');
        return dot < 0 ? "" : parameterName[..dot];
    }

    private void OnGradient(WatchedParameter parameter, int pass, Tensor gradient)
    {
        if (pass != _pass)
        {
            _pass = pass;
            BeginStep();
        }
        GradientStatistics statistics;
        using (Autograd.NoGrad()) statistics = GradientStatistics.Of(gradient);
        int step = _steps - 1;
        parameter.Steps[step] = statistics;
        // A gradient already there that is not all zeros: this pass adds to the last one instead of replacing it.
        if (parameter.Parameter.Grad is { } previous && GradientStatistics.Of(previous).Zeros != previous.NumElements)
            parameter.AccumulatedSteps++;
    }

    private void OnLayerOutput(WatchedLayer layer, Tensor output)
    {
        if (!Autograd.IsGradEnabled || output.GradFn is not { } node) return;
        output.RegisterHook(g =>
        {
            if (node.VisitStamp != _pass)
            {
                _pass = node.VisitStamp;
                BeginStep();
            }
            var statistics = GradientStatistics.Of(g);
            layer.OutputGradients[_steps - 1] = layer.OutputGradients[_steps - 1] is { } before ? before.Combine(statistics) : statistics;
        });
    }

    /// <summary>Closes the forward passes seen since the last backward into the step that backward starts.</summary>
    private void BeginStep()
    {
        _steps++;
        foreach (var p in _parameters) p.Steps.Add(null);
        foreach (var layer in _layers)
        {
            layer.OutputGradients.Add(null);
            if (layer.Active is not { } active)
            {
                layer.DeadFractions.Add(null);
                continue;
            }
            int silent = 0;
            for (int u = 0; u < active.Length; u++)
            {
                if (active[u]) layer.LastActive![u] = _steps - 1;
                else silent++;
                active[u] = false;
            }
            layer.DeadFractions.Add(layer.SawForward ? (double)silent / active.Length : null);
            layer.SawForward = false;
        }
    }

    private void OnReluOutput(WatchedLayer layer, Module module, Tensor output)
    {
        if (!Autograd.IsGradEnabled || !module.IsTraining || output.NumElements == 0) return;
        int units = output.Rank >= 2 ? output.Size(1) : output.Size(0);
        if (layer.Active is null || layer.Active.Length != units)
        {
            layer.Active = new bool[units];
            layer.LastActive = Enumerable.Repeat(-1, units).ToArray();
        }
        int outer = output.Rank >= 2 ? output.Size(0) : 1;
        int inner = output.NumElements / (outer * units);
        float[] values;
        using (Autograd.NoGrad())
            values = output.IsContiguous && output.TryGetHostArray<float>(out var host) && output.Offset == 0 && host.Length == output.NumElements
                ? host
                : output.ToArray<float>();
        var active = layer.Active;
        for (int n = 0; n < outer; n++)
            for (int u = 0; u < units; u++)
            {
                if (active[u]) continue;
                int start = (n * units + u) * inner;
                for (int k = 0; k < inner; k++)
                    if (values[start + k] != 0)
                    {
                        active[u] = true;
                        break;
                    }
            }
        layer.SawForward = true;
    }

    /// <summary>
    /// A step observer for a recurrent module of your own: assign it to the module's <c>StepObserver</c> (or call it with
    /// (t, h_t) for every time step of the forward pass) and the report gains ‖∂L/∂h_t‖ for every t, under
    /// <paramref name="name"/>. The library's recurrent layers are watched by <see cref="Attach"/> without this.
    /// </summary>
    /// <remarks>
    /// Each h_t gets a tensor hook; a backward pass reaching them makes one row of <see cref="TimeStepGradientFlow.Passes"/>,
    /// indexed by the order in which the forward pass observed the states since the previous backward (so a forward run
    /// in several calls, as <see cref="Nn.TruncatedBptt"/> does with k2 &gt; k1, still counts from its first step). Run
    /// evaluation passes under <see cref="Autograd.NoGrad"/>: states that need no gradient are not observed.
    /// </remarks>
    public Action<int, Tensor> ObserveSteps(string name, string type = "recurrent")
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var steps = new WatchedSteps(name, type);
        _sequences.Add(steps);
        return (_, hidden) => OnStep(steps, hidden);
    }

    private void OnStep(WatchedSteps steps, Tensor hidden)
    {
        if (_disposed || !Autograd.IsGradEnabled || hidden.GradFn is not { } node) return;
        int position = steps.Position++;
        hidden.RegisterHook(g =>
        {
            if (node.VisitStamp != steps.Stamp)
            {
                // The first gradient of a new backward pass: a new row, and the next forward counts from 0 again.
                steps.Stamp = node.VisitStamp;
                steps.Passes.Add([]);
                steps.Position = 0;
            }
            var pass = steps.Passes[^1];
            while (pass.Count <= position) pass.Add(double.NaN);
            double norm;
            using (Autograd.NoGrad()) norm = GradientStatistics.Of(g).Norm;
            pass[position] = double.IsNaN(pass[position]) ? norm : Math.Sqrt(pass[position] * pass[position] + norm * norm);
        });
    }

    /// <summary>The figures and flags over every step recorded so far.</summary>
    public GradientFlowReport Report()
    {
        var layers = new List<LayerGradientFlow>();
        foreach (var layer in _layers)
        {
            var norms = new double[_steps];
            GradientStatistics? last = null;
            for (int s = 0; s < _steps; s++)
            {
                GradientStatistics? combined = null;
                foreach (var p in layer.Parameters)
                    if (p.Steps[s] is { } st) combined = combined is { } c ? c.Combine(st) : st;
                norms[s] = combined?.Norm ?? double.NaN;
                if (combined is not null) last = combined;
            }
            double? dead = null;
            if (layer.LastActive is { } lastActive)
            {
                int window = Math.Min(Options.DeadWindow, _steps);
                dead = window == 0 ? null : (double)lastActive.Count(s => s < _steps - window) / lastActive.Length;
            }
            layers.Add(new LayerGradientFlow(layer.Name, layer.Type, layer.ParameterNames, norms,
                layer.OutputGradients.Select(o => o is { Count: > 0 } g ? g.Norm / Math.Sqrt(g.Count) : double.NaN).ToArray(), last,
                layer.DeadFractions.ToArray(), dead,
                layer.Parameters.Select(p => new ParameterGradientFlow(p.Name, p.Steps.ToArray(), p.AccumulatedSteps)).ToList()));
        }
        var sequences = _sequences.Select(q => new TimeStepGradientFlow(q.Name, q.Type, q.Passes.Select(p => (IReadOnlyList<double>)p.ToArray()).ToList(),
            RecentPasses(q.Passes.Count))).ToList();
        return new GradientFlowReport(_steps, layers, Options, sequences);
    }

    /// <summary>The last quarter of the passes, at least one: the network as trained so far.</summary>
    private static int RecentPasses(int passes) => Math.Max(1, passes / 4);

    /// <summary>Removes the hooks; the recorded figures stay available to <see cref="Report"/>.</summary>
    public void Dispose()
    {
        foreach (var h in _handles) h.Dispose();
        _handles.Clear();
        _disposed = true;
    }

    private sealed class WatchedParameter(string name, WatchedLayer layer, Tensor parameter)
    {
        public string Name { get; } = name;
        public WatchedLayer Layer { get; } = layer;
        public Tensor Parameter { get; } = parameter;
        public List<GradientStatistics?> Steps { get; } = [];
        public int AccumulatedSteps;
    }

    private sealed class WatchedSteps(string name, string type)
    {
        public string Name { get; } = name;
        public string Type { get; } = type;
        public List<List<double>> Passes { get; } = [];
        public int Stamp = int.MinValue;
        public int Position;
    }

    private sealed class WatchedLayer(string name, string type, List<string> parameterNames)
    {
        public string Name { get; } = name;
        public string Type { get; } = type;
        public List<string> ParameterNames { get; } = parameterNames;
        public List<WatchedParameter> Parameters { get; } = [];
        public List<double?> DeadFractions { get; } = [];
        public List<GradientStatistics?> OutputGradients { get; } = [];
        public bool[]? Active;
        public int[]? LastActive;
        public bool SawForward;
    }
}
