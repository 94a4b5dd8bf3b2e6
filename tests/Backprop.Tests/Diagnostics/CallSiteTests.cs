using System.Runtime.CompilerServices;
using Backprop.Nn;

namespace Backprop.Tests.Diagnostics;

/// <summary>A user's module that runs its child from its own forward pass.</summary>
internal sealed class Wrapper : Module<Tensor, Tensor>
{
    public static readonly int InnerLine = Line() + 5;

    public Linear Inner { get; } = new(2, 2, generator: new Generator(1));

    protected override Tensor ForwardCore(Tensor input) =>
        Inner.Forward(input).Tanh();

    private static int Line([CallerLineNumber] int line = 0) => line;
}

public class CallSiteTests
{
    private static int Line([CallerLineNumber] int line = 0) => line;

    [Fact]
    public void Library_calls_keep_the_users_line_and_a_loop_shares_one_origin_per_layer()
    {
        var model = new Sequential(new Linear(2, 2, generator: new Generator(1)), new Relu());
        var x = Tensor.Randn([3, 2]).SetRequiresGrad();
        var nodes = new List<Node>();
        int line = Line() + 2;
        for (int i = 0; i < 3; i++)
            nodes.Add(model.Forward(x).GradFn!.NextFunctions[0]!); // Relu's input comes from Linear, called by Sequential
        Assert.All(nodes, n => Assert.Equal("LinearBackward", n.Name));
        Assert.All(nodes, n => Assert.Equal(line, n.CallSite!.Value.Line));
        Assert.All(nodes, n => Assert.Equal("Sequential.0 (Linear)", n.ModulePath));
        Assert.Same(nodes[0].Origin, nodes[2].Origin);
    }

    [Fact]
    public void The_innermost_user_line_wins()
    {
        var model = new Wrapper();
        int outer = Line() + 1;
        var y = model.Forward(Tensor.Randn([1, 2]).SetRequiresGrad());
        Assert.Equal(outer, y.GradFn!.CallSite!.Value.Line);                       // Tanh ran in Wrapper's forward, called here
        Assert.Equal(Wrapper.InnerLine, y.GradFn.NextFunctions[0]!.CallSite!.Value.Line); // Linear was called from Wrapper's line
        Assert.Equal("Wrapper.inner (Linear)", y.GradFn.NextFunctions[0]!.ModulePath);
    }

    [Fact]
    public void Ops_outside_any_call_have_no_site_and_an_in_place_op_records_its_line()
    {
        var x = Tensor.Randn([2]).SetRequiresGrad();
        Assert.Null((x * 2).GradFn!.CallSite);
        var h = x * 2;
        int line = Line() + 1;
        h.AddInPlace(1.0); // recorded: the op it records is sited at this line
        Assert.Equal(line, h.GradFn!.CallSite!.Value.Line);
    }
}
