using Backprop.Nn;

namespace Backprop.Tests.Nn;

public class ModuleDiscoveryTests
{
    private sealed class Block : Module<Tensor, Tensor>
    {
        public Linear Fc1 { get; } = new(3, 4);
        public Linear Fc2 { get; } = new(4, 2, bias: false);
        private readonly Relu _activation = new();

        protected override Tensor ForwardCore(Tensor input) => Fc2.Forward(_activation.Forward(Fc1.Forward(input)));
    }

    private sealed class Net : Module<Tensor, Tensor>
    {
        public Block Encoder { get; } = new();
        public List<Linear> Layers { get; } = [new Linear(2, 2), new Linear(2, 2)];
        public Parameter RunningScale { get; } = new(Tensor.Ones(2));
        public Sequential Head { get; } = new(new Linear(2, 3), new Tanh(), new Linear(3, 1));

        protected override Tensor ForwardCore(Tensor input)
        {
            var x = Encoder.Forward(input);
            foreach (var layer in Layers) x = layer.Forward(x);
            return Head.Forward(x * RunningScale);
        }
    }

    [Fact]
    public void Parameters_are_named_like_pytorch()
    {
        var names = new Net().NamedParameters().Select(p => p.Name).ToList();
        Assert.Equal(
        [
            "running_scale",
            "encoder.fc1.weight", "encoder.fc1.bias", "encoder.fc2.weight",
            "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
            "head.0.weight", "head.0.bias", "head.2.weight", "head.2.bias",
        ], names);
    }

    [Fact]
    public void Parameters_are_the_modules_own_tensors()
    {
        var net = new Net();
        var parameters = net.Parameters().ToList();
        Assert.Equal(12, parameters.Count);
        Assert.Same(net.Encoder.Fc1.Weight, parameters[1]);
        Assert.All(parameters, p => Assert.True(p.RequiresGrad && p.IsLeaf));
    }

    [Theory]
    [InlineData("Fc1", "fc1")]
    [InlineData("Weight", "weight")]
    [InlineData("RunningMean", "running_mean")]
    [InlineData("PosWeight", "pos_weight")]
    [InlineData("Conv2d", "conv2d")]
    [InlineData("Layer2Norm", "layer2_norm")]
    [InlineData("HTTPServer", "http_server")]
    [InlineData("already_snake", "already_snake")]
    public void Member_names_become_snake_case(string member, string expected) =>
        Assert.Equal(expected, Module.ToSnakeCase(member));

    [Fact]
    public void Children_and_modules_walk_the_tree_once()
    {
        var net = new Net();
        Assert.Equal(["encoder", "layers.0", "layers.1", "head"], net.NamedChildren().Select(c => c.Name));
        Assert.Equal(["", "encoder", "encoder.fc1", "encoder.fc2", "encoder.activation", "layers.0", "layers.1", "head", "head.0", "head.1", "head.2"],
            net.NamedModules().Select(m => m.Name));
        Assert.Same(net, net.Modules().First());
    }

    private sealed class Tied : Module<Tensor, Tensor>
    {
        public Tied()
        {
            Decoder.Weight = Encoder.Weight;
        }

        public Linear Encoder { get; } = new(3, 3);
        public Linear Decoder { get; } = new(3, 3);

        protected override Tensor ForwardCore(Tensor input) => Decoder.Forward(Encoder.Forward(input));
    }

    [Fact]
    public void A_shared_parameter_is_listed_once_but_saved_under_every_name()
    {
        var tied = new Tied();
        Assert.Equal(["encoder.weight", "encoder.bias", "decoder.bias"], tied.NamedParameters().Select(p => p.Name));
        Assert.Equal(["encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias"], tied.StateDict().Keys);
    }

    private sealed class Mixture : Module<Tensor, Tensor>
    {
        public Parameter[] Scales { get; } = [new(Tensor.Ones(1)), new(Tensor.Ones(2))];
        private readonly Module<Tensor, Tensor>[] _experts = [new Linear(2, 2, bias: false), new Relu()];

        protected override Tensor ForwardCore(Tensor input) => _experts[0].Forward(input) * Scales[1];
    }

    [Fact]
    public void Arrays_of_parameters_and_modules_are_named_by_index()
    {
        var m = new Mixture();
        Assert.Equal(["scales.0", "scales.1", "experts.0.weight"], m.NamedParameters().Select(p => p.Name));
        Assert.Equal(["experts.0", "experts.1"], m.NamedChildren().Select(c => c.Name));
    }

    private sealed class Registered : Module<Tensor, Tensor>
    {
        [IgnoreDiscovery] public Linear NotOwned { get; } = new(2, 2);
        public Tensor Scratch { get; } = Tensor.Zeros(2);

        public Registered()
        {
            RegisterParameter("alpha", new Parameter(Tensor.Ones(1)));
            RegisterModule("extra", new Linear(2, 1));
            RegisterBuffer("running_mean", Tensor.Zeros(2));
            RegisterBuffer("cache", Tensor.Zeros(3), persistent: false);
        }

        protected override Tensor ForwardCore(Tensor input) => input;
    }

    [Fact]
    public void Registered_members_join_the_discovered_ones_and_ignored_fields_stay_out()
    {
        var m = new Registered();
        Assert.Equal(["alpha", "extra.weight", "extra.bias"], m.NamedParameters().Select(p => p.Name));
        Assert.Equal(["running_mean", "cache"], m.NamedBuffers().Select(b => b.Name));
        Assert.Equal(["alpha", "running_mean", "extra.weight", "extra.bias"], m.StateDict().Keys);
    }

    [Fact]
    public void Registering_a_taken_name_fails()
    {
        var m = new Registered();
        var e = Assert.Throws<ArgumentException>(() => m.RegisterModule("alpha", new Relu()));
        Assert.Contains("'alpha'", e.Message);
        Assert.Throws<ArgumentException>(() => m.RegisterParameter("a.b", null));
    }

    [Fact]
    public void Replacing_a_field_is_seen_by_the_next_traversal()
    {
        var linear = new Linear(2, 2);
        var replacement = new Parameter(Tensor.Zeros(2, 2));
        linear.Weight = replacement;
        Assert.Same(replacement, linear.Parameters().First());
        linear.Bias = null;
        Assert.Equal(["weight"], linear.StateDict().Keys);
    }

    [Fact]
    public void Train_and_eval_reach_every_module()
    {
        var net = new Net();
        Assert.True(net.IsTraining);
        net.Eval();
        Assert.All(net.Modules(), m => Assert.False(m.IsTraining));
        net.Head.Train();
        Assert.False(net.IsTraining);
        Assert.True(net.Head[1].IsTraining);
    }

    [Fact]
    public void ZeroGrad_clears_every_parameter()
    {
        var net = new Net();
        net.Forward(Tensor.Randn(5, 3)).Sum().Backward();
        Assert.All(net.Parameters(), p => Assert.NotNull(p.Grad));
        net.ZeroGrad(setToNone: false);
        Assert.All(net.Parameters(), p => Assert.All(p.Grad!.ToArray<float>(), v => Assert.Equal(0f, v)));
        net.ZeroGrad();
        Assert.All(net.Parameters(), p => Assert.Null(p.Grad));
    }

    [Fact]
    public void Apply_visits_children_before_parents()
    {
        var order = new List<string>();
        new Sequential(new Linear(1, 1), new Sequential(new Relu())).Apply(m => order.Add(m.GetType().Name));
        Assert.Equal(["Linear", "Relu", "Sequential", "Sequential"], order);
    }

    [Fact]
    public void Apply_can_initialise_every_linear_layer()
    {
        var net = new Net();
        net.Apply(m =>
        {
            if (m is Linear linear) Init.Constant(linear.Weight, 0.5);
        });
        Assert.All(net.Modules().OfType<Linear>(), l => Assert.All(l.Weight.ToArray<float>(), v => Assert.Equal(0.5f, v)));
    }

    [Fact]
    public void ToString_shows_the_tree()
    {
        var text = new Sequential(new Linear(2, 4), new Tanh()).ToString();
        Assert.Equal("Sequential(\n  (0): Linear(inFeatures: 2, outFeatures: 4, bias: True)\n  (1): Tanh()\n)", text);
    }

    [Fact]
    public void Sequential_runs_its_layers_in_order_and_is_indexable()
    {
        var seq = new Sequential { new Linear(3, 2), new Relu() };
        seq.Add(new Linear(2, 1));
        Assert.Equal(3, seq.Count);
        Assert.IsType<Relu>(seq[1]);
        var x = Tensor.Randn(4, 3);
        var expected = seq[2].Forward(seq[1].Forward(seq[0].Forward(x)));
        Assert.Equal(expected.ToArray<float>(), seq.Forward(x).ToArray<float>());
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], seq.StateDict().Keys);
    }

    [Fact]
    public void Parameter_shares_storage_with_the_tensor_it_wraps()
    {
        var data = Tensor.Randn(3, 4);
        var p = new Parameter(data);
        Assert.True(p.RequiresGrad);
        Assert.True(p.IsLeaf);
        Assert.False(data.RequiresGrad);
        using (Autograd.NoGrad()) p.FillInPlace(2);
        Assert.All(data.ToArray<float>(), v => Assert.Equal(2f, v));
        Assert.StartsWith("Parameter containing:\ntensor(", p.ToString());
        Assert.Throws<InvalidOperationException>(() => new Parameter(Tensor.FromArray(new long[] { 1, 2 })));
    }

    [Fact]
    public void Nodes_record_the_module_they_ran_in()
    {
        var net = new Net();
        var early = net.Head[0].Forward(Tensor.Randn(2, 2));
        Assert.Equal("Linear", early.GradFn!.Origin!.ModulePath);

        var output = net.Forward(Tensor.Randn(2, 3));
        Assert.Equal("Net.head.2 (Linear)", output.GradFn!.Origin!.ModulePath);
        var later = net.Head[0].Forward(Tensor.Randn(2, 2));
        Assert.Equal("Net.head.0 (Linear)", later.GradFn!.Origin!.ModulePath);
        Assert.Equal("Net.head.0", net.Head[0].QualifiedName);
    }

    [Fact]
    public void Forward_without_hooks_allocates_nothing()
    {
        var identity = new Identity();
        var x = Tensor.Randn(2);
        for (int i = 0; i < 100; i++) identity.Forward(x);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) identity.Forward(x);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
