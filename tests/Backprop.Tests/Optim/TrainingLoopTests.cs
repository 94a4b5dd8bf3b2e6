using Backprop.IO;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.Optim;

/// <summary>Properties of whole training loops: gradient accumulation, and resuming from a checkpoint bit for bit.</summary>
public class TrainingLoopTests
{
    private static Sequential Mlp(ulong seed)
    {
        var g = new Generator(seed);
        return new Sequential(new Linear(3, 6, generator: g), new Tanh(), new Linear(6, 2, generator: g));
    }

    private static (Tensor X, Tensor Y) Batch(int step, int size = 8)
    {
        var g = new Generator(1000 + (ulong)step);
        return (Tensor.Randn([size, 3], generator: g), Tensor.Randn([size, 2], generator: g));
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    public void Accumulating_k_scaled_micro_batches_equals_one_big_batch(string optimizer)
    {
        Optimizer Make(Module model) => optimizer == "sgd"
            ? new Sgd(model.Parameters(), learningRate: 0.1, momentum: 0.9)
            : new Adam(model.Parameters(), learningRate: 0.01);
        var loss = new MseLoss();
        var (x, y) = Batch(0, size: 8);

        var whole = Mlp(7);
        var wholeOptimizer = Make(whole);
        loss.Forward(whole.Forward(x), y).Backward();
        wholeOptimizer.Step();

        const int k = 4;
        var accumulated = Mlp(7);
        var accumulatedOptimizer = Make(accumulated);
        for (int i = 0; i < k; i++)
        {
            var xi = x.Narrow(0, 2 * i, 2);
            var yi = y.Narrow(0, 2 * i, 2);
            (loss.Forward(accumulated.Forward(xi), yi) / k).Backward();
        }
        accumulatedOptimizer.Step();

        foreach (var ((name, a), (_, b)) in whole.NamedParameters().Zip(accumulated.NamedParameters()))
            Assert.True(a.AllClose(b, rtol: 1e-5, atol: 1e-6), $"{name}: {a} vs {b}");
    }

    public static TheoryData<string> OptimizerNames => ["sgd nesterov", "adam amsgrad", "adamw onecycle", "rmsprop centered", "adagrad", "groups plateau"];

    private sealed record Run(Sequential Model, Optimizer Optimizer, ICheckpointable? Scheduler, Action<int> AfterStep);

    private static Run Build(string name, ulong seed)
    {
        var model = Mlp(seed);
        switch (name)
        {
            case "sgd nesterov":
            {
                var opt = new Sgd(model.Parameters(), learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3);
                var scheduler = new StepLr(opt, stepSize: 2, gamma: 0.7);
                return new Run(model, opt, scheduler, _ => scheduler.Step());
            }
            case "adam amsgrad":
            {
                var opt = new Adam(model.Parameters(), learningRate: 0.01, amsgrad: true, weightDecay: 0.01);
                var scheduler = new LinearWarmup(opt, 2, 0.1, new CosineAnnealingLr(opt, tMax: 10));
                return new Run(model, opt, scheduler, _ => scheduler.Step());
            }
            case "adamw onecycle":
            {
                var opt = new AdamW(model.Parameters(), learningRate: 0.01);
                var scheduler = new OneCycleLr(opt, 0.05, totalSteps: 10);
                return new Run(model, opt, scheduler, _ => scheduler.Step());
            }
            case "rmsprop centered":
                return new Run(model, new RmsProp(model.Parameters(), learningRate: 0.01, momentum: 0.5, centered: true), null, _ => { });
            case "adagrad":
                return new Run(model, new Adagrad(model.Parameters(), learningRate: 0.1, learningRateDecay: 0.01, initialAccumulatorValue: 0.1), null, _ => { });
            default:
            {
                var layers = model.Modules().OfType<Linear>().ToArray();
                var opt = new Sgd(layers[0].Parameters(), learningRate: 0.1, momentum: 0.8);
                opt.AddParamGroup(layers[1].Parameters(), opt.Defaults with { LearningRate = 0.02, Dampening = 0.1 });
                var scheduler = new ReduceLrOnPlateau(opt, patience: 0, threshold: 0.5);
                return new Run(model, opt, scheduler, step => scheduler.Step(100 - step));
            }
        }
    }

    private static void Train(Run run, int from, int to)
    {
        var loss = new MseLoss();
        for (int step = from; step < to; step++)
        {
            var (x, y) = Batch(step);
            run.Optimizer.ZeroGrad();
            loss.Forward(run.Model.Forward(x), y).Backward();
            run.Optimizer.Step();
            run.AfterStep(step);
        }
    }

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void A_resumed_run_continues_bit_for_bit(string name)
    {
        var uninterrupted = Build(name, seed: 1);
        Train(uninterrupted, 0, 6);

        var first = Build(name, seed: 1);
        Train(first, 0, 3);
        var checkpoint = new Checkpoint();
        first.Model.SaveState(checkpoint, "model.");
        first.Optimizer.SaveState(checkpoint, "optimizer.");
        first.Scheduler?.SaveState(checkpoint, "scheduler.");

        var resumed = Build(name, seed: 2);
        resumed.Model.LoadState(checkpoint, "model.");
        resumed.Optimizer.LoadState(checkpoint, "optimizer.");
        resumed.Scheduler?.LoadState(checkpoint, "scheduler.");
        Train(resumed, 3, 6);

        foreach (var ((key, expected), (_, actual)) in uninterrupted.Model.StateDict().Zip(resumed.Model.StateDict()))
            Assert.True(expected.ToArray<float>().SequenceEqual(actual.ToArray<float>()), $"{name}: {key} differs");
        Assert.Equal(uninterrupted.Optimizer.ParamGroups.Select(g => g.LearningRate), resumed.Optimizer.ParamGroups.Select(g => g.LearningRate));
        var expectedState = new Checkpoint();
        var actualState = new Checkpoint();
        uninterrupted.Optimizer.SaveState(expectedState, "");
        resumed.Optimizer.SaveState(actualState, "");
        Assert.Equal(expectedState.Metadata, actualState.Metadata);
        foreach (var (key, tensor) in expectedState.Tensors)
            Assert.True(tensor.ToArray<float>().SequenceEqual(actualState.Tensors[key].ToArray<float>()), $"{name}: state {key} differs");
    }

    [Fact]
    public void Loading_optimizer_state_checks_it_fits()
    {
        var model = Mlp(1);
        var adam = new Adam(model.Parameters());
        Train(new Run(model, adam, null, _ => { }), 0, 1);
        var checkpoint = new Checkpoint();
        adam.SaveState(checkpoint, "opt.");

        Assert.Throws<InvalidOperationException>(() => new Sgd(Mlp(1).Parameters()).LoadState(checkpoint, "opt."));
        var twoGroups = new Adam(Mlp(1).Parameters().Take(2));
        twoGroups.AddParamGroup(Mlp(1).Parameters().Skip(2));
        Assert.Throws<InvalidOperationException>(() => twoGroups.LoadState(checkpoint, "opt."));
        var wider = new Sequential(new Linear(3, 7), new Tanh(), new Linear(7, 2));
        var e = Assert.Throws<ShapeMismatchException>(() => new Adam(wider.Parameters()).LoadState(checkpoint, "opt."));
        Assert.Contains("opt.state.0.exp_avg", e.Message);
        Assert.Throws<KeyNotFoundException>(() => new Adam(Mlp(1).Parameters()).LoadState(checkpoint, "other."));
    }
}
