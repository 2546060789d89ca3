#!/usr/bin/python3
"""The PyTorch side of docs/onnx.md's worked example: a small CNN, exported to ONNX in eval mode
with an input batch beside it. Usage: onnx_export_cnn.py OUT_DIR (writes cnn.onnx and x.npy)."""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
    nn.Dropout(0.25), nn.Flatten(), nn.Linear(4 * 4 * 4, 3), nn.LogSoftmax(dim=1)).eval()
x = torch.randn(2, 1, 8, 8)
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.onnx.export(model, (x,), os.path.join(out, "cnn.onnx"), opset_version=17,
                  input_names=["x"], output_names=["log_probs"])
np.save(os.path.join(out, "x.npy"), x.numpy())
print("exported cnn.onnx and x.npy into", out)
