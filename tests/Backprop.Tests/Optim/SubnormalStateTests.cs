using System.Numerics;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.Optim;

/// <summary>
/// Optimizer state that decays under a zero gradient sinks into the subnormal range, where x86 arithmetic is two orders
/// of magnitude slower; the steps flush it to zero. These tests run the documented update without flushing, in the
/// kernel's own order of operations, and require the same parameter bits and a state free of subnormals.
/// </summary>
public class SubnormalStateTests
{
    // 37 elements: whole vectors and a scalar tail. Gradients of ordinary size and one so small that g² is subnormal.
    private static T[] Initial<T>() where T : IFloatingPointIeee754<T> =>
        [.. Enumerable.Range(0, 37).Select(i => T.CreateTruncating((i % 2 == 0 ? 1 : -1) * (0.25 + i / 8.0)))];

    private static T[] FirstGradient<T>() where T : IFloatingPointIeee754<T> =>
        [.. Enumerable.Range(0, 37).Select(i => T.CreateTruncating(i == 5 ? 1e-20 : (i % 3 - 1) * 0.5))];

    // One step with the first gradient, then this many with a zero gradient: enough for 0.9ᵏ to pass below float64's
    // smallest normal number.
    private const int ZeroSteps = 7000;

    /// <summary>Runs <paramref name="steps"/> optimizer steps: the first gradient, then zeros.</summary>
    private static (T[] Parameter, Tensor[] State) Train<T>(Func<Tensor, Optimizer> create, int steps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = new Parameter(Tensor.FromArray(Initial<T>()));
        var optimizer = create(p);
        for (int step = 0; step < steps; step++)
        {
            p.Grad = step == 0 ? Tensor.FromArray(FirstGradient<T>()) : Tensor.ZerosLike(p);
            optimizer.Step();
        }
        return (p.ToArray<T>(), [.. optimizer.GetState(p)!.Buffers.ToArray().OfType<Tensor>()]);
    }

    private static void AssertNoSubnormals<T>(Tensor[] state) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.NotEmpty(state);
        foreach (var tensor in state) Assert.DoesNotContain(tensor.ToArray<T>(), T.IsSubnormal);
    }

    private static void AssertSameBits<T>(T[] expected, T[] actual) where T : unmanaged, IFloatingPointIeee754<T> =>
        Assert.Equal(expected.Select(x => double.CreateTruncating(x)), actual.Select(x => double.CreateTruncating(x)));

    [Fact]
    public void Adam_flushes_its_moments_and_moves_parameters_exactly_as_without_flushing_float32() => Adam<float>();

    [Fact]
    public void Adam_flushes_its_moments_and_moves_parameters_exactly_as_without_flushing_float64() => Adam<double>();

    private static void Adam<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        const double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        var (parameter, state) = Train<T>(p => new Adam([p], lr, beta1, beta2, eps), 1 + ZeroSteps);

        var p = Initial<T>();
        var m = new T[p.Length];
        var v = new T[p.Length];
        var first = FirstGradient<T>();
        bool sawSubnormal = false;
        for (int t = 1; t <= 1 + ZeroSteps; t++)
        {
            T stepSize = T.CreateTruncating(lr / (1 - Math.Pow(beta1, t))), correction2 = T.CreateTruncating(Math.Sqrt(1 - Math.Pow(beta2, t)));
            for (int i = 0; i < p.Length; i++)
            {
                T g = t == 1 ? first[i] : T.Zero;
                m[i] = T.CreateTruncating(beta1) * m[i] + T.CreateTruncating(1 - beta1) * g;
                v[i] = T.CreateTruncating(beta2) * v[i] + T.CreateTruncating(1 - beta2) * g * g;
                sawSubnormal |= T.IsSubnormal(m[i]) || T.IsSubnormal(v[i]);
                p[i] -= stepSize * m[i] / (T.Sqrt(v[i]) / correction2 + T.CreateTruncating(eps));
            }
        }
        Assert.True(sawSubnormal, "the reference run never produced a subnormal moment, so this test checks nothing");
        AssertSameBits(p, parameter);
        AssertNoSubnormals<T>(state);
    }

    [Fact]
    public void Sgd_flushes_its_momentum_and_moves_parameters_exactly_as_without_flushing()
    {
        const double lr = 0.1, momentum = 0.9;
        var (parameter, state) = Train<float>(p => new Sgd([p], lr, momentum), 1 + ZeroSteps);

        var p = Initial<float>();
        var b = FirstGradient<float>();
        bool sawSubnormal = false;
        for (int i = 0; i < p.Length; i++) p[i] -= (float)lr * b[i];
        for (int t = 0; t < ZeroSteps; t++)
            for (int i = 0; i < p.Length; i++)
            {
                b[i] = (float)momentum * b[i] + 1f * 0f;
                sawSubnormal |= float.IsSubnormal(b[i]);
                p[i] -= (float)lr * b[i];
            }
        Assert.True(sawSubnormal, "the reference run never produced a subnormal buffer, so this test checks nothing");
        AssertSameBits(p, parameter);
        AssertNoSubnormals<float>(state);
    }

    [Fact]
    public void RmsProp_without_eps_keeps_a_subnormal_square_average_so_the_update_stays_finite()
    {
        // g = 1e-20: g² ≈ 1e-40 is subnormal in float32. With ε = 0 the update is g/√(αs + (1−α)g²) ≈ 10, which a
        // flushed average would turn into g/0 = ∞.
        var p = new Parameter(Tensor.FromArray(new float[37]));
        var optimizer = new RmsProp([p], learningRate: 1e-3, eps: 0);
        p.Grad = Tensor.Full([37], 1e-20);
        optimizer.Step();

        float square = 0.01f * 1e-20f * 1e-20f;
        Assert.True(float.IsSubnormal(square));
        float expected = 0f - 1e-3f * 1e-20f / MathF.Sqrt(square);
        Assert.True(float.IsFinite(expected));
        Assert.All(p.ToArray<float>(), x => Assert.Equal(expected, x));
    }
}
