#!/usr/bin/python3
"""Builds small PyTorch models, exports each with torch.onnx.export into OUT_DIR/<model>_<dtype>/,
and saves beside it what dagprop's import must reproduce: the inputs, the output, the seed of the
backward pass (d loss / d output) and PyTorch's gradients of sum(output * seed) with respect to
every parameter and every float input, all as .npy, listed in manifest.json.

Run by CTest (onnx.torch_models_export) before tests/onnx/onnx_torch_test.cpp reads them. Exits
77 (CTest's skip) with a message when python3-torch or python3-onnx is missing."""
import json
import os
import sys

SKIP = 77
try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # say so; never pass silently
    print(f"SKIPPED: PyTorch export needs python3-torch and python3-numpy ({e}); "
          "apt-get install python3-torch", file=sys.stderr)
    sys.exit(SKIP)


class Mlp(nn.Module):
    """Linear, activation, Linear: one model per activation."""

    def __init__(self, activation):
        super().__init__()
        self.fc1 = nn.Linear(5, 7)
        self.fc2 = nn.Linear(7, 3)
        self.activation = activation

    def forward(self, x):
        return self.fc2(self.activation(self.fc1(x)))


class Arithmetic(nn.Module):
    """Elementwise arithmetic, reductions, softmax over an inner axis, transposes and the shape
    arithmetic of view(x.size(0), -1), exported without constant folding."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(3, 4))
        self.scale = nn.Parameter(torch.rand(4) + 0.5)

    def forward(self, x):  # x [2, 3, 4]
        h = (x * self.w - self.scale) / (self.scale + 1.0)
        h = torch.sqrt(h * h + 1.0) + torch.exp(-torch.abs(h)) + torch.log(h.pow(2) + 2.0)
        h = h + h.mean(dim=1, keepdim=True) - h.sum(dim=(1, 2), keepdim=True) * 0.01
        h = torch.softmax(h, dim=1) + torch.log_softmax(h.transpose(1, 2), dim=-1).transpose(1, 2)
        h = h.unsqueeze(1).squeeze(1).permute(0, 2, 1)
        return h.reshape(h.size(0), -1).matmul(torch.ones(12, 2, dtype=h.dtype) * 0.1)


class Cnn(nn.Module):
    """Conv, ReLU, MaxPool, BatchNorm (eval), Dropout (eval), grouped Conv, AvgPool with padding,
    global average pooling, Concat, Flatten, Linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.3)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=1, groups=2)
        self.pool = nn.AvgPool2d(2, padding=1)
        self.fc = nn.Linear(6 * 2 * 2 + 6, 5)

    def forward(self, x):  # x [2, 2, 8, 8]
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = self.drop(self.bn(h))
        h = torch.tanh(self.conv2(h))
        a = torch.flatten(self.pool(h), 1)
        b = torch.flatten(F.adaptive_avg_pool2d(h, 1), 1)
        return F.log_softmax(self.fc(torch.cat([a, b], dim=1)), dim=1)


class Embed(nn.Module):
    """An embedding looked up by integer ids, concatenated with float features."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10, 3)
        self.fc1 = nn.Linear(4 * 3 + 4, 6)
        self.fc2 = nn.Linear(6, 2)

    def forward(self, ids, x):  # ids [2, 4] int64, x [2, 4]
        e = self.embedding(ids)
        h = torch.cat([e.reshape(e.size(0), -1), x], dim=1)
        return torch.softmax(self.fc2(F.elu(self.fc1(h))), dim=-1)


def models():
    activations = {
        "relu": F.relu, "leaky_relu": lambda x: F.leaky_relu(x, 0.1), "elu": lambda x: F.elu(x, 0.7),
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "softplus": F.softplus, "gelu": F.gelu,
    }
    for name, f in activations.items():
        yield f"mlp_{name}", Mlp(f), lambda: {"x": torch.randn(4, 5)}, True
    yield "arithmetic", Arithmetic(), lambda: {"x": torch.randn(2, 3, 4)}, False
    yield "cnn", Cnn(), lambda: {"x": torch.randn(2, 2, 8, 8)}, True
    yield "embed", Embed(), lambda: {"ids": torch.randint(0, 10, (2, 4)), "x": torch.randn(2, 4)}, False


def save(directory, name, array):
    np.save(os.path.join(directory, name + ".npy"), np.ascontiguousarray(array))
    return name + ".npy"


def export(out_dir, name, model, make_inputs, constant_folding, dtype):
    directory = os.path.join(out_dir, f"{name}_{'f32' if dtype == torch.float32 else 'f64'}")
    os.makedirs(directory, exist_ok=True)
    model = model.to(dtype).eval()
    model.zero_grad(set_to_none=True)  # the same module is exported in both dtypes
    with torch.no_grad():  # running statistics that are not the defaults, so they matter
        for buffer_name, buffer in model.named_buffers():
            if buffer.is_floating_point():
                buffer.copy_(torch.rand_like(buffer) + (0.5 if "var" in buffer_name else -0.5))
    inputs = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in make_inputs().items()}
    for v in inputs.values():
        if v.is_floating_point():
            v.requires_grad_(True)
    args = tuple(inputs.values())
    torch.onnx.export(model, args, os.path.join(directory, "model.onnx"), opset_version=17,
                      input_names=list(inputs), output_names=["output"],
                      do_constant_folding=constant_folding)
    output = model(*args)
    seed = torch.randn_like(output)
    (output * seed).sum().backward()
    manifest = {"model": "model.onnx", "dtype": "f32" if dtype == torch.float32 else "f64",
                "inputs": {k: save(directory, "input." + k, v.detach().numpy()) for k, v in inputs.items()},
                "output": save(directory, "output", output.detach().numpy()),
                "seed": save(directory, "seed", seed.numpy()), "gradients": {}}
    for k, v in list(model.named_parameters()) + list(inputs.items()):
        if v.grad is not None:
            manifest["gradients"][k] = save(directory, "grad." + k, v.grad.numpy())
    with open(os.path.join(directory, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return directory


def main():
    out_dir = sys.argv[1]
    torch.manual_seed(0)
    written = []
    for name, model, make_inputs, folding in models():
        for dtype in (torch.float32, torch.float64):
            written.append(export(out_dir, name, model, make_inputs, folding, dtype))
    with open(os.path.join(out_dir, "models.txt"), "w") as f:
        f.write("\n".join(os.path.basename(d) for d in written) + "\n")
    print(f"exported {len(written)} models with torch {torch.__version__} into {out_dir}")


if __name__ == "__main__":
    main()
