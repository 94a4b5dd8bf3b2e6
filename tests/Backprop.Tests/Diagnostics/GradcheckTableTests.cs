using Backprop.Diagnostics;

namespace Backprop.Tests.Diagnostics;

/// <summary>Every differentiable op, from the one table the op classes declare, checked in float64 against finite differences.</summary>
public class GradcheckTableTests
{
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var (_, c) in GradcheckCatalog.All) data.Add(c.ToString());
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Op_gradient_matches_finite_differences(string name)
    {
        var testCase = GradcheckCatalog.All.Single(c => c.Case.ToString() == name).Case;
        var result = Gradcheck.Run(testCase, seed: 1);
        Assert.True(result.Passed, $"{name}: {result}");
    }

    [Fact]
    public void Every_op_class_declares_gradcheck_rows()
    {
        var missing = GradcheckCatalog.OpTypes
            .Where(t => !typeof(IGradchecked).IsAssignableFrom(t) || !GradcheckCatalog.All.Any(c => c.Op == t))
            .Select(t => t.Name)
            .ToList();
        Assert.True(missing.Count == 0, "Op classes without gradcheck rows: " + string.Join(", ", missing));
    }

    [Fact]
    public void Case_names_are_unique()
    {
        var names = GradcheckCatalog.All.Select(c => c.Case.ToString()).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Fact]
    public void Table_contains_non_contiguous_and_broadcast_inputs()
    {
        var inputs = GradcheckCatalog.All.SelectMany(c => c.Case.Inputs).ToList();
        Assert.Contains(inputs, i => i.Layout == InputLayout.Transposed);
        Assert.Contains(inputs, i => i.Layout == InputLayout.Strided);
        Assert.Contains(GradcheckCatalog.All, c => c.Case.Name.Contains("broadcast", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Gradcheck_catches_a_wrong_backward()
    {
        // x³ with a deliberately wrong derivative: a hook doubles the gradient reaching x.
        var x = Gradcheck.MakeInput([4], new Generator(3));
        var result = Gradcheck.Check(inputs =>
        {
            var y = inputs[0] * 1.0;
            if (y.RequiresGrad) y.RegisterHook(g => g * 2.0);
            return y.Pow(3);
        }, [x]);
        Assert.False(result.Passed);
        Assert.True(result.Inputs[0].MaxAbsoluteError > 0.1);
    }
}
