using Backprop.Diagnostics;
using Backprop.Nn;

namespace Backprop.Ops;

/// <summary>
/// The gradcheck rows of the fused recurrent ops: whole runs through <see cref="RecurrentScan"/> with every weight,
/// the input and the initial state as inputs, so each row checks the step ops and the sink together (single step,
/// multi-step, bidirectional, multi-layer, variable lengths, LSTM projection, LSTM with h and c passed apart).
/// </summary>
internal static class RecurrentGradcheck
{
    /// <summary>
    /// A row: x [T, B, I], then per layer-direction W_ih, W_hh (and b_ih, b_hh, W_hr), then h0 (and c0). The result is
    /// the output, final h and final c flattened into one vector.
    /// </summary>
    private static GradcheckCase Row(string name, RecurrentCellKind kind, int steps, int batch, int input, int hidden, int layers = 1,
        bool bidirectional = false, bool bias = true, int projSize = 0, long[]? lengths = null, bool observed = false, bool batchFirstOutput = false)
    {
        int gates = kind switch { RecurrentCellKind.Lstm => 4, RecurrentCellKind.Gru => 3, _ => 1 };
        int directions = bidirectional ? 2 : 1, outSize = projSize > 0 ? projSize : hidden;
        var shapes = new List<GradcheckInput> { new[] { steps, batch, input } };
        for (int layer = 0; layer < layers; layer++)
            for (int d = 0; d < directions; d++)
            {
                shapes.Add(new[] { gates * hidden, layer == 0 ? input : outSize * directions });
                shapes.Add(new[] { gates * hidden, outSize });
                if (bias)
                {
                    shapes.Add(new[] { gates * hidden });
                    shapes.Add(new[] { gates * hidden });
                }
                if (projSize > 0) shapes.Add(new[] { projSize, hidden });
            }
        shapes.Add(new[] { layers * directions, batch, outSize });
        if (kind == RecurrentCellKind.Lstm) shapes.Add(new[] { layers * directions, batch, hidden });

        Tensor Run(Tensor[] x)
        {
            int k = 1;
            var weights = new List<RecurrentWeights>();
            for (int i = 0; i < layers * directions; i++)
            {
                var wih = x[k++];
                var whh = x[k++];
                Tensor? bih = bias ? x[k++] : null, bhh = bias ? x[k++] : null;
                var whr = projSize > 0 ? x[k++] : null;
                weights.Add(new RecurrentWeights(wih, whh, bih, bhh, whr));
            }
            var h0 = x[k++];
            var c0 = kind == RecurrentCellKind.Lstm ? x[k] : null;
            var mask = lengths is null ? null : RecurrentScan.StepMask(Tensor.FromArray(lengths, lengths.Length), steps);
            // An observer makes the LSTM pass h and c to each step apart, so the observed h carries the total gradient.
            var (output, h, c) = RecurrentScan.Run(kind, weights, layers, bidirectional, x[0], h0, c0, mask,
                observer: observed ? (_, _) => { } : null, batchFirstOutput: batchFirstOutput);
            return Tensor.Cat(c is null ? [output.Flatten(), h.Flatten()] : [output.Flatten(), h.Flatten(), c.Flatten()]);
        }
        return new GradcheckCase(name, Run, shapes.ToArray());
    }

    public static IEnumerable<GradcheckCase> LstmCases =>
    [
        Row("Lstm single step", RecurrentCellKind.Lstm, 1, 2, 3, 2),
        Row("Lstm multi-step", RecurrentCellKind.Lstm, 4, 2, 3, 2),
        Row("Lstm bidirectional 2 layers", RecurrentCellKind.Lstm, 3, 2, 2, 2, layers: 2, bidirectional: true),
        Row("Lstm variable lengths", RecurrentCellKind.Lstm, 3, 3, 2, 2, lengths: [3, 1, 2]),
        Row("Lstm projection no bias", RecurrentCellKind.Lstm, 3, 2, 2, 3, bias: false, projSize: 2),
        Row("Lstm observed steps", RecurrentCellKind.Lstm, 3, 3, 2, 2, lengths: [3, 1, 2], observed: true),
        Row("Lstm batch-first output, 2 layers", RecurrentCellKind.Lstm, 3, 2, 2, 2, layers: 2, batchFirstOutput: true),
    ];

    public static IEnumerable<GradcheckCase> GruCases =>
    [
        Row("Gru single step", RecurrentCellKind.Gru, 1, 2, 3, 2),
        Row("Gru multi-step", RecurrentCellKind.Gru, 4, 2, 3, 2),
        Row("Gru bidirectional 2 layers", RecurrentCellKind.Gru, 3, 2, 2, 2, layers: 2, bidirectional: true),
        Row("Gru batch-first output", RecurrentCellKind.Gru, 3, 2, 2, 2, bidirectional: true, batchFirstOutput: true),
        Row("Gru variable lengths", RecurrentCellKind.Gru, 4, 3, 2, 2, lengths: [2, 4, 1]),
    ];

    public static IEnumerable<GradcheckCase> RnnCases =>
    [
        Row("Rnn tanh single step", RecurrentCellKind.RnnTanh, 1, 2, 3, 2),
        Row("Rnn tanh bidirectional 2 layers", RecurrentCellKind.RnnTanh, 3, 2, 2, 3, layers: 2, bidirectional: true),
        Row("Rnn relu multi-step no bias", RecurrentCellKind.RnnRelu, 3, 2, 3, 3, bias: false),
    ];

    public static IEnumerable<GradcheckCase> SequenceCases =>
    [
        Row("Recurrent inputs multi-step, 2 layers", RecurrentCellKind.Gru, 5, 2, 2, 2, layers: 2),
        Row("Recurrent inputs variable lengths", RecurrentCellKind.RnnTanh, 4, 3, 2, 2, bidirectional: true, lengths: [3, 4, 0]),
    ];
}
