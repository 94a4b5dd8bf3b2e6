using Backprop.IO;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.Optim;

public class LrSchedulerTests
{
    private static Sgd Optimizer(double learningRate = 1, double momentum = 0.9) =>
        new([new Parameter(Tensor.Zeros(2))], learningRate: learningRate, momentum: momentum);

    /// <summary>The rate at construction and after each of <paramref name="steps"/> steps.</summary>
    private static double[] Rates(Optimizer optimizer, Action step, int steps)
    {
        var rates = new List<double> { optimizer.ParamGroups[0].LearningRate };
        for (int i = 0; i < steps; i++)
        {
            step();
            rates.Add(optimizer.ParamGroups[0].LearningRate);
        }
        return rates.ToArray();
    }

    private static void AssertRates(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 12);
    }

    [Fact]
    public void StepLr_multiplies_by_gamma_every_step_size_steps()
    {
        var opt = Optimizer();
        var scheduler = new StepLr(opt, stepSize: 2, gamma: 0.5);
        AssertRates([1, 1, 0.5, 0.5, 0.25, 0.25, 0.125], Rates(opt, scheduler.Step, 6));
        Assert.Equal(6, scheduler.StepCount);
        Assert.Equal([0.125], scheduler.LastLearningRates);
    }

    [Fact]
    public void ExponentialLr_multiplies_by_gamma_every_step()
    {
        var opt = Optimizer(learningRate: 2);
        var scheduler = new ExponentialLr(opt, 0.9);
        AssertRates([2, 1.8, 1.62, 1.458], Rates(opt, scheduler.Step, 3));
    }

    [Fact]
    public void CosineAnnealing_follows_half_a_cosine_to_eta_min()
    {
        var opt = Optimizer();
        var scheduler = new CosineAnnealingLr(opt, tMax: 4, etaMin: 0.1);
        double c = Math.Cos(Math.PI / 4); // the quarter points
        AssertRates([1, 0.1 + 0.9 * (1 + c) / 2, 0.55, 0.1 + 0.9 * (1 - c) / 2, 0.1, 0.1 + 0.9 * (1 - c) / 2],
            Rates(opt, scheduler.Step, 5));
    }

    [Fact]
    public void LinearWarmup_rises_from_the_start_factor_to_the_base_rate()
    {
        var opt = Optimizer(learningRate: 2);
        var scheduler = new LinearWarmup(opt, warmupSteps: 4, startFactor: 0.25);
        AssertRates([0.5, 0.875, 1.25, 1.625, 2, 2], Rates(opt, scheduler.Step, 5));
    }

    [Fact]
    public void LinearWarmup_then_hands_over_to_another_schedule()
    {
        var opt = Optimizer(learningRate: 2);
        var cosine = new CosineAnnealingLr(opt, tMax: 2);
        var scheduler = new LinearWarmup(opt, warmupSteps: 2, then: cosine);
        AssertRates([0, 1, 2, 1, 0], Rates(opt, scheduler.Step, 4));
        Assert.Throws<ArgumentException>(() => new LinearWarmup(Optimizer(), 2, then: cosine));
    }

    [Fact]
    public void Schedules_scale_each_groups_own_base_rate()
    {
        var opt = Optimizer(learningRate: 1);
        opt.AddParamGroup([new Parameter(Tensor.Zeros(1))], opt.Defaults with { LearningRate = 0.1 });
        var scheduler = new ExponentialLr(opt, 0.5);
        scheduler.Step();
        Assert.Equal([0.5, 0.05], opt.ParamGroups.Select(g => g.LearningRate));
        Assert.Equal([1, 0.1], scheduler.BaseLearningRates);
    }

    [Fact]
    public void OneCycle_two_phases_with_cosine_annealing_and_momentum()
    {
        var opt = Optimizer(learningRate: 0.123);
        var scheduler = new OneCycleLr(opt, maxLearningRate: 1, totalSteps: 10);
        // initial = 1/25 = 0.04, minimum = 0.04/1e4; the warm-up phase ends at step 0.3·10 − 1 = 2, the second at 9.
        double Cos(double start, double end, double pct) => end + (start - end) / 2 * (Math.Cos(Math.PI * pct) + 1);
        var expected = new double[11];
        for (int t = 0; t <= 9; t++)
            expected[t] = t <= 2 ? Cos(0.04, 1, t / 2.0) : Cos(1, 4e-6, (t - 2) / 7.0);
        expected[10] = Cos(1, 4e-6, 8 / 7.0);
        var momenta = new List<double> { ((SgdOptions)opt.ParamGroups[0].Options).Momentum };
        var rates = Rates(opt, () =>
        {
            scheduler.Step();
            momenta.Add(((SgdOptions)opt.ParamGroups[0].Options).Momentum);
        }, 10);
        AssertRates(expected, rates);
        Assert.Equal([0.04, 0.52, 1], rates[..3].Select(r => Math.Round(r, 12)));
        Assert.Equal(4e-6, rates[9], 15);
        Assert.Equal(0.95, momenta[0], 12);
        Assert.Equal(0.9, momenta[1], 12);
        Assert.Equal(0.85, momenta[2], 12);
        Assert.Equal(0.95, momenta[9], 12);
        Assert.Throws<InvalidOperationException>(scheduler.Step);
    }

    [Fact]
    public void OneCycle_linear_three_phases()
    {
        var opt = Optimizer();
        var scheduler = new OneCycleLr(opt, 1, totalSteps: 10, annealStrategy: AnnealStrategy.Linear, cycleMomentum: false, threePhase: true);
        // Phases end at 2 (0.04 → 1), 4 (1 → 0.04) and 9 (0.04 → 4e−6).
        var rates = Rates(opt, scheduler.Step, 9);
        AssertRates([0.04, 0.52, 1, 0.52, 0.04, 0.04 - 0.2 * (0.04 - 4e-6), 0.04 - 0.4 * (0.04 - 4e-6), 0.04 - 0.6 * (0.04 - 4e-6),
            0.04 - 0.8 * (0.04 - 4e-6), 4e-6], rates);
        Assert.Equal(0.9, ((SgdOptions)opt.ParamGroups[0].Options).Momentum);
    }

    [Fact]
    public void OneCycle_cycles_adams_beta1_and_refuses_optimizers_without_momentum()
    {
        var adam = new Adam([new Parameter(Tensor.Zeros(1))]);
        new OneCycleLr(adam, 0.01, totalSteps: 20);
        Assert.Equal(0.95, ((AdamOptions)adam.ParamGroups[0].Options).Beta1);
        var adagrad = new Adagrad([new Parameter(Tensor.Zeros(1))]);
        Assert.Throws<ArgumentException>(() => new OneCycleLr(adagrad, 0.01, totalSteps: 20));
        Assert.Throws<ArgumentException>(() => new OneCycleLr(Optimizer(), 0.01, totalSteps: 3, pctStart: 0.1, cycleMomentum: false));
    }

    [Fact]
    public void ReduceLrOnPlateau_cuts_after_patience_runs_out()
    {
        var opt = Optimizer();
        var scheduler = new ReduceLrOnPlateau(opt, factor: 0.5, patience: 2);
        double[] metrics = [1, 0.9, 0.95, 0.95, 0.95, 0.8, 0.8, 0.8, 0.8];
        var rates = metrics.Select(m =>
        {
            scheduler.Step(m);
            return opt.ParamGroups[0].LearningRate;
        }).ToArray();
        // Three steps without improvement on 0.9 (more than the patience of 2) halve the rate; 0.8 improves, then again.
        Assert.Equal([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25], rates);
        Assert.Equal(0.8, scheduler.Best);
    }

    [Fact]
    public void ReduceLrOnPlateau_cooldown_threshold_mode_and_floor()
    {
        var opt = Optimizer();
        var scheduler = new ReduceLrOnPlateau(opt, PlateauMode.Max, factor: 0.1, patience: 0, threshold: 0.5,
            thresholdMode: ThresholdMode.Absolute, cooldown: 1, minLearningRate: 0.05);
        double[] metrics = [1, 1.2, 1.3, 1.35];
        var rates = metrics.Select(m =>
        {
            scheduler.Step(m);
            return opt.ParamGroups[0].LearningRate;
        }).ToArray();
        // 1.2 is not 0.5 better than 1: cut to 0.1; the cooldown step (1.3) cannot cut; 1.35 cuts again, to the 0.05 floor.
        Assert.Equal([1, 0.1, 0.1, 0.05], rates.Select(r => Math.Round(r, 12)));
        Assert.Equal(1, scheduler.Best);
    }

    [Fact]
    public void Schedulers_resume_from_a_checkpoint()
    {
        var uninterrupted = Optimizer();
        var reference = new LinearWarmup(uninterrupted, 3, 0.1, new CosineAnnealingLr(uninterrupted, tMax: 5));
        var expected = Rates(uninterrupted, reference.Step, 7);

        var first = Optimizer();
        var scheduler = new LinearWarmup(first, 3, 0.1, new CosineAnnealingLr(first, tMax: 5));
        for (int i = 0; i < 4; i++) scheduler.Step();
        var checkpoint = new Checkpoint();
        first.SaveState(checkpoint, "optimizer.");
        scheduler.SaveState(checkpoint, "scheduler.");

        var second = Optimizer(learningRate: 7);
        var resumed = new LinearWarmup(second, 3, 0.1, new CosineAnnealingLr(second, tMax: 5));
        second.LoadState(checkpoint, "optimizer.");
        resumed.LoadState(checkpoint, "scheduler.");
        Assert.Equal(4, resumed.StepCount);
        Assert.Equal(expected[4], second.ParamGroups[0].LearningRate);
        var rest = Rates(second, resumed.Step, 3);
        Assert.Equal(expected[4..], rest);

        var plateau = new ReduceLrOnPlateau(first, patience: 1);
        plateau.Step(3);
        plateau.Step(4);
        plateau.SaveState(checkpoint, "plateau.");
        var restored = new ReduceLrOnPlateau(second, patience: 1);
        restored.LoadState(checkpoint, "plateau.");
        Assert.Equal((3.0, 1, 2), (restored.Best, restored.BadSteps, restored.StepCount));
        Assert.Throws<InvalidOperationException>(() => new StepLr(second, 2).LoadState(checkpoint, "scheduler."));
    }
}
