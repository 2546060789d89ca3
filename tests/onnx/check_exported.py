#!/usr/bin/python3
"""onnx.checker (full check: with shape inference) over every model dagprop exported in
DIR (written by the OnnxRoundTrip tests), and the shapes ONNX infers for the outputs must be the
ones the files declare. Exits 77 (CTest's skip) with a message when python3-onnx is missing."""
import glob
import os
import sys

try:
    import onnx
    import onnx.checker
    import onnx.shape_inference
except ImportError as e:
    print(f"SKIPPED: checking exported models needs python3-onnx ({e}); apt-get install python3-onnx",
          file=sys.stderr)
    sys.exit(77)

paths = sorted(glob.glob(os.path.join(sys.argv[1], "*.onnx")))
if not paths:
    sys.exit(f"no exported models in {sys.argv[1]}: the OnnxRoundTrip tests did not run")
for path in paths:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    declared = {o.name: [d.dim_value for d in o.type.tensor_type.shape.dim] for o in model.graph.output}
    values = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for name, dims in declared.items():
        got = [d.dim_value for d in values[name].type.tensor_type.shape.dim]
        if got != dims:
            sys.exit(f"{path}: output {name} is declared {dims}, ONNX infers {got}")
    print(f"{os.path.basename(path)}: valid ONNX (opset {model.opset_import[0].version}, "
          f"{len(model.graph.node)} nodes, {len(model.graph.initializer)} initializers)")
print(f"checked {len(paths)} models with onnx {onnx.__version__}")
