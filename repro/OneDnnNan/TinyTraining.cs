using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace OneDnnNan;

/// <summary>
/// The failing workload in its smallest form, TorchSharp only: a PreAct ResNet of one block per stage (Winnow's
/// compact-resnet: stem 24, stages 48-96-192, stride 2) trained with SGD on seeded random 1×16×16 images, 3 epochs of
/// 13 steps of 32. After every layer's forward pass it checks for NaN; at the first one it prints the layer, the input
/// shape and whether the same layer on the same input gives NaN again (a transient fault does not).
/// </summary>
internal static class TinyTraining
{
    private sealed class Net : nn.Module<Tensor, Tensor>
    {
        private readonly List<(string Name, nn.Module<Tensor, Tensor> Layer)> layers = [];
        private readonly Sequential body;

        public Net(bool channelsLast) : base("tiny")
        {
            void Add(string name, nn.Module<Tensor, Tensor> m) => layers.Add((name, m));
            Add("stem", nn.Conv2d(1, 24, 3, padding: 1, bias: false));
            long cin = 24;
            foreach (long cout in new long[] { 48, 96, 192 })
            {
                Add($"bn{cout}a", nn.BatchNorm2d(cin));
                Add($"relu{cout}a", nn.ReLU());
                Add($"conv{cout}a", nn.Conv2d(cin, cout, 3, stride: 2, padding: 1, bias: false));
                Add($"bn{cout}b", nn.BatchNorm2d(cout));
                Add($"relu{cout}b", nn.ReLU());
                Add($"conv{cout}b", nn.Conv2d(cout, cout, 3, padding: 1, bias: false));
                cin = cout;
            }
            body = nn.Sequential(layers.Select(l => (l.Name, (nn.Module<Tensor, Tensor>)l.Layer)).ToArray());
            Head = nn.Linear(192, 4);
            RegisterComponents();
            if (channelsLast) foreach (var p in parameters()) if (p.dim() == 4) using (no_grad()) p.set_(Nhwc(p));
        }

        public Linear Head { get; }

        /// <summary>The layer and input where the first NaN appeared in the last forward pass, if any.</summary>
        public string? FirstNaN { get; private set; }

        public override Tensor forward(Tensor x)
        {
            FirstNaN = null;
            foreach (var (name, layer) in layers)
            {
                var y = layer.forward(x);
                if (FirstNaN is null && y.isnan().any().item<bool>())
                {
                    bool inputFinite = x.isfinite().all().item<bool>();
                    using var again = no_grad();
                    bool repeats = layer.forward(x).isnan().any().item<bool>();
                    FirstNaN = $"{name} ({layer.GetType().Name}) on input [{string.Join(",", x.shape)}] strides [{string.Join(",", x.stride())}]: input {(inputFinite ? "finite" : "NOT finite")}, same layer on the same input again: {(repeats ? "NaN again" : "finite")}";
                }
                x = y;
            }
            return Head.forward(F.adaptive_avg_pool2d(x, [1, 1]).flatten(1));
        }
    }

    /// <summary>The same tensor with NHWC strides (channels last).</summary>
    private static Tensor Nhwc(Tensor t) => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    /// <summary>Trains <paramref name="runs"/> times from the same seed; returns how many runs met a NaN.</summary>
    public static int Run(int runs, bool channelsLast)
    {
        int failed = 0;
        for (int run = 0; run < runs; run++)
        {
            manual_seed(1);
            using var net = new Net(channelsLast);
            var optimizer = optim.SGD(net.parameters(), 0.02, 0.9, weight_decay: 5e-4);
            var images = randn(416, 1, 16, 16);
            var labels = randint(0, 4, [416]);
            string? failure = null;
            double lastLoss = 0;
            for (int epoch = 0; epoch < 3 && failure is null; epoch++)
            {
                var order = randperm(416);
                for (int step = 0; step < 13 && failure is null; step++)
                {
                    using var scope = NewDisposeScope();
                    var idx = order.narrow(0, step * 32, 32);
                    var x = images.index_select(0, idx);
                    if (channelsLast) x = Nhwc(x);
                    var loss = F.cross_entropy(net.forward(x), labels.index_select(0, idx));
                    optimizer.zero_grad();
                    loss.backward();
                    optimizer.step();
                    lastLoss = loss.item<float>();
                    if (net.FirstNaN is { } where) failure = $"epoch {epoch + 1}, step {step + 1}: first NaN after {where}";
                    else if (!double.IsFinite(lastLoss)) failure = $"epoch {epoch + 1}, step {step + 1}: loss {lastLoss} (NaN from the backward pass or the update)";
                }
            }
            if (failure is not null) failed++;
            Console.WriteLine($"run {run + 1}: {failure ?? $"finite, last loss {lastLoss:R}"}");
        }
        return failed;
    }
}
