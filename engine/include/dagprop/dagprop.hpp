// Everything a user program needs: graphs, ops, autodiff and gradient checks.
#pragma once

#include <dagprop/autodiff.hpp>
#include <dagprop/error.hpp>
#include <dagprop/expr.hpp>
#include <dagprop/gradcheck.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/op_def.hpp>
#include <dagprop/ops.hpp>
#include <dagprop/plan.hpp>
#include <dagprop/random.hpp>
#include <dagprop/tensor.hpp>
