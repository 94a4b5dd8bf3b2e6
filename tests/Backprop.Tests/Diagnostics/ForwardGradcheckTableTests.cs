using System.Reflection;
using Backprop.Diagnostics;

namespace Backprop.Tests.Diagnostics;

/// <summary>
/// Forward mode for every op, from the same table the op classes declare for reverse mode: each row's Jacobian built
/// from JVPs against finite differences in float64, and ⟨J·v, u⟩ = ⟨v, Jᵀ·u⟩ against the backward.
/// </summary>
public class ForwardGradcheckTableTests
{
    public static TheoryData<string> CaseNames() => GradcheckTableTests.CaseNames();

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Op_jvp_matches_finite_differences_and_the_vjp(string name)
    {
        var testCase = GradcheckCatalog.All.Single(c => c.Case.ToString() == name).Case;
        var result = Gradcheck.Run(testCase, seed: 1, checkForwardAd: true);
        Assert.True(result.Forward is { Passed: true }, $"{name}: {result.Forward}");
    }

    [Fact]
    public void Every_op_class_declares_a_forward_mode_rule()
    {
        var missing = GradcheckCatalog.OpTypes
            .Where(t => t.GetMethod("Jvp", BindingFlags.Instance | BindingFlags.NonPublic)?.DeclaringType != t)
            .Select(t => t.Name)
            .ToList();
        Assert.True(missing.Count == 0, "Op classes without a Jvp rule: " + string.Join(", ", missing));
    }

    [Fact]
    public void Forward_check_catches_a_wrong_jvp()
    {
        // A hook doubles the gradient only: reverse mode is wrong, forward mode is right, so the adjoint identity fails.
        var x = Gradcheck.MakeInput([4], new Generator(3));
        var result = Gradcheck.CheckForward(inputs =>
        {
            var y = inputs[0] * 1.0;
            if (y.RequiresGrad) y.RegisterHook(g => g * 2.0);
            return y.Pow(3);
        }, [x]);
        Assert.True(result.Inputs[0].Passed, result.ToString());
        Assert.False(result.AdjointPassed, result.ToString());
        Assert.False(result.Passed);
    }
}
