namespace Backprop.Optim;

/// <summary>Options with a momentum-like coefficient (SGD's and RMSprop's momentum, Adam's β₁), which <see cref="OneCycleLr"/> cycles.</summary>
public interface IMomentumOptions
{
    double Momentum { get; set; }
}
