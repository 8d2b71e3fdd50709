#!/usr/bin/env python3
"""The TorchSharp reproduction's 'train' mode (OneDnnNan/TinyTraining.cs) in PyTorch, for an upstream report.

Usage: python3 repro/onednn_nan.py [runs] [threads] [--channels-last]
Trains a PreAct ResNet of one block per stage (stem 24, stages 48-96-192) with SGD on seeded random 1x16x16 images,
3 epochs of 13 steps of 32, `runs` times from the same seed, and names the first layer whose output holds NaN.
ONEDNN_VERBOSE=1 names every kernel; ONEDNN_MAX_CPU_ISA=AVX2 is the cure to compare with. Exit code 1 on any NaN.
"""
import sys
import torch
import torch.nn as nn
import torch.nn.functional as F


def layers():
    out = [("stem", nn.Conv2d(1, 24, 3, padding=1, bias=False))]
    cin = 24
    for cout in (48, 96, 192):
        out += [(f"bn{cout}a", nn.BatchNorm2d(cin)), (f"relu{cout}a", nn.ReLU()),
                (f"conv{cout}a", nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False)),
                (f"bn{cout}b", nn.BatchNorm2d(cout)), (f"relu{cout}b", nn.ReLU()),
                (f"conv{cout}b", nn.Conv2d(cout, cout, 3, padding=1, bias=False))]
        cin = cout
    return out


def run_once(channels_last):
    torch.manual_seed(1)
    body = layers()
    head = nn.Linear(192, 4)
    modules = nn.ModuleList([m for _, m in body] + [head])
    if channels_last:
        modules = modules.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(modules.parameters(), lr=0.02, momentum=0.9, weight_decay=5e-4)
    images, labels = torch.randn(416, 1, 16, 16), torch.randint(0, 4, (416,))
    loss = torch.tensor(0.0)
    for epoch in range(3):
        order = torch.randperm(416)
        for step in range(13):
            idx = order[step * 32:(step + 1) * 32]
            x = images[idx]
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            first_nan = None
            for name, layer in body:
                y = layer(x)
                if first_nan is None and torch.isnan(y).any():
                    with torch.no_grad():
                        again = torch.isnan(layer(x)).any().item()
                    first_nan = f"{name} on input {list(x.shape)} strides {list(x.stride())}: input finite {bool(torch.isfinite(x).all())}, again {'NaN' if again else 'finite'}"
                x = y
            loss = F.cross_entropy(head(F.adaptive_avg_pool2d(x, 1).flatten(1)), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if first_nan or not torch.isfinite(loss):
                return f"epoch {epoch + 1}, step {step + 1}: " + (f"first NaN after {first_nan}" if first_nan else f"loss {loss.item()}")
    return f"finite, last loss {loss.item()!r}"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    runs = int(args[0]) if args else 5
    torch.set_num_threads(int(args[1]) if len(args) > 1 else 2)
    channels_last = "--channels-last" in sys.argv
    print(f"torch {torch.__version__}, channels-last {channels_last}, threads {torch.get_num_threads()}")
    failed = 0
    for run in range(runs):
        result = run_once(channels_last)
        failed += not result.startswith("finite")
        print(f"run {run + 1}: {result}")
    print(f"{failed} of {runs} runs met a NaN")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
