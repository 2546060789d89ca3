// Everything a user program needs: graphs, the scalar tape, ops, autodiff and gradient checks,
// snapshots, graph files and .npy arrays, pictures, layers, optimizers, training and datasets
// (dagprop::dagprop). The optional components have headers of their own: <dagprop/onnx.hpp>
// (dagprop::onnx) and <dagprop/distributed/mpi_collective.hpp> (dagprop::distributed).
#pragma once

#include <dagprop/autodiff.hpp>
#include <dagprop/data/batches.hpp>
#include <dagprop/data/csv.hpp>
#include <dagprop/data/dataset.hpp>
#include <dagprop/data/fashion_mnist.hpp>
#include <dagprop/data/idx.hpp>
#include <dagprop/data/synthetic.hpp>
#include <dagprop/dot.hpp>
#include <dagprop/error.hpp>
#include <dagprop/expr.hpp>
#include <dagprop/function.hpp>
#include <dagprop/gradcheck.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/graph_io.hpp>
#include <dagprop/kernel_loops.hpp>
#include <dagprop/nn/activation.hpp>
#include <dagprop/nn/collective.hpp>
#include <dagprop/nn/fixed_point_sum.hpp>
#include <dagprop/nn/init.hpp>
#include <dagprop/nn/layers.hpp>
#include <dagprop/nn/metrics.hpp>
#include <dagprop/nn/optim.hpp>
#include <dagprop/nn/schedule.hpp>
#include <dagprop/nn/sequential.hpp>
#include <dagprop/nn/trainer.hpp>
#include <dagprop/npy.hpp>
#include <dagprop/op_def.hpp>
#include <dagprop/ops.hpp>
#include <dagprop/parallelism.hpp>
#include <dagprop/random.hpp>
#include <dagprop/reproducibility.hpp>
#include <dagprop/scalar_tape.hpp>
#include <dagprop/snapshot.hpp>
#include <dagprop/tensor.hpp>
#include <dagprop/transforms.hpp>
