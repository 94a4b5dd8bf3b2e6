namespace Backprop;

/// <summary>One SGD update of every element (see <c>Optim.Sgd</c>); the caller resolves the hyperparameters of the step.</summary>
/// <param name="InitializeMomentum">The buffer holds no history yet: set it to the gradient instead of blending.</param>
public readonly record struct SgdUpdate(double LearningRate, double WeightDecay, double Momentum, double Dampening, bool Nesterov,
    bool Maximize, bool InitializeMomentum);

/// <summary>One Adam update (see <c>Optim.Adam</c>).</summary>
/// <param name="StepSize">γ / (1 − β₁ᵗ).</param>
/// <param name="BiasCorrection2Sqrt">√(1 − β₂ᵗ).</param>
/// <param name="WeightDecay">The L2 term added to the gradient (0 for decoupled decay).</param>
/// <param name="ParameterScale">What the parameter is multiplied by first: 1 − γλ for decoupled decay, else 1.</param>
public readonly record struct AdamUpdate(double StepSize, double BiasCorrection2Sqrt, double Beta1, double Beta2, double Eps,
    double WeightDecay, double ParameterScale, bool Amsgrad, bool Maximize);

/// <summary>One RMSprop update (see <c>Optim.RmsProp</c>); centred when a gradient average is passed, with momentum when a buffer is.</summary>
public readonly record struct RmsPropUpdate(double LearningRate, double Alpha, double Eps, double WeightDecay, double Momentum, bool Maximize);

/// <summary>One Adagrad update (see <c>Optim.Adagrad</c>).</summary>
/// <param name="StepSize">γ / (1 + (t − 1)·decay).</param>
public readonly record struct AdagradUpdate(double StepSize, double WeightDecay, double Eps, bool Maximize);

/// <remarks>
/// Fused optimizer steps: each reads the gradient and updates the parameter and its state in one pass, in place, where
/// the same step written with tensor ops makes a dozen passes and temporaries. All views are contiguous, of one dtype
/// and one length; the caller bumps the versions of what changed.
/// </remarks>
public partial interface IBackend
{
    void SgdStep(StridedView parameter, StridedView gradient, StridedView? momentumBuffer, in SgdUpdate update);

    void AdamStep(StridedView parameter, StridedView gradient, StridedView expAvg, StridedView expAvgSq, StridedView? maxExpAvgSq,
        in AdamUpdate update);

    void RmsPropStep(StridedView parameter, StridedView gradient, StridedView squareAvg, StridedView? gradAvg,
        StridedView? momentumBuffer, in RmsPropUpdate update);

    void AdagradStep(StridedView parameter, StridedView gradient, StridedView sum, in AdagradUpdate update);
}
