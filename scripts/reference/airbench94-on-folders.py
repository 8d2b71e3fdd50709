#!/usr/bin/env python3
"""Reference check, not part of Winnow: airbench94's own training code (KellerJordan/cifar10-airbench,
legacy/airbench94.py, read from a checkout) on CIFAR-10 image folders, on the CPU with Debian's python3-torch, so
that the fast recipe's accuracy on the same images can be set against the original's. The original runs on a GPU in
fp16; here its CUDA calls become CPU ones and fp16 becomes fp32 (PyTorch 1.13 has no fp16 convolution on the CPU).
Nothing else in its code is changed: it is executed as it is, with these substitutions around it.

Usage: /usr/bin/python3 scripts/reference/airbench94-on-folders.py --airbench AIRBENCH94.py --data DIR [--epochs 9.9] [--threads 2]
  AIRBENCH94.py: git --git-dir=<mirror of KellerJordan/cifar10-airbench> show HEAD:legacy/airbench94.py > airbench94.py
  DIR: train/<class>/*.jpg and test/<class>/*.jpg
Prints airbench's own per-epoch table and the final test accuracy with its test-time views.
"""
import argparse, os, sys, tempfile, time, types

import numpy as np
import torch
from PIL import Image

ap = argparse.ArgumentParser()
ap.add_argument("--airbench", required=True)
ap.add_argument("--data", required=True)
ap.add_argument("--epochs", type=float, default=9.9)
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()
torch.set_num_threads(a.threads)


def load(split):
    root = os.path.join(a.data, split)
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    images, labels = [], []
    for k, c in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(root, c))):
            images.append(np.asarray(Image.open(os.path.join(root, c, f)).convert("RGB")))
            labels.append(k)
    return {"images": torch.tensor(np.stack(images)), "labels": torch.tensor(labels), "classes": classes}


work = tempfile.mkdtemp(prefix="airbench-")
os.makedirs(os.path.join(work, "cifar10"))
start = time.time()
for split, name in (("train", "train.pt"), ("test", "test.pt")):
    torch.save(load(split), os.path.join(work, "cifar10", name))
print(f"loaded the folders in {time.time() - start:.0f} s", flush=True)


class Normalize:  # torchvision.transforms.Normalize on a (N, C, H, W) tensor
    def __init__(self, mean, std):
        self.mean, self.std = mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1)

    def __call__(self, x):
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)


tv = types.ModuleType("torchvision")
tv.transforms = types.ModuleType("torchvision.transforms")
tv.transforms.Normalize = Normalize
sys.modules["torchvision"], sys.modules["torchvision.transforms"] = tv, tv.transforms


class Event:  # torch.cuda.Event(enable_timing=True) on the CPU
    def __init__(self, **_):
        self.t = 0.0

    def record(self):
        self.t = time.time()

    def elapsed_time(self, end):
        return 1000 * (end.t - self.t)


torch.cuda.Event = Event
torch.cuda.synchronize = lambda *_: None
torch.nn.Module.cuda = lambda self, *_, **__: self
torch.nn.Module.half = lambda self: self
torch.Tensor.half = lambda self: self.float()
_load = torch.load
torch.load = lambda f, map_location=None: _load(f)

os.chdir(work)
code = open(a.airbench).read()
module = {"__name__": "airbench94"}
exec(compile(code, a.airbench, "exec"), module)
module["hyp"]["opt"]["train_epochs"] = a.epochs
module["print_columns"](module["logging_columns_list"], is_head=True)
accuracy = module["main"](0)
print(f"airbench94 on {a.data}, {a.epochs} epochs, fp32 on the CPU: test accuracy with its test-time views {100 * accuracy:.2f}%")
