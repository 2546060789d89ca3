// Expr: a cheap handle (graph, node id) with arithmetic operators that add nodes to its graph.
#pragma once

#include <string>
#include <string_view>

#include <dagprop/export.hpp>
#include <dagprop/node.hpp>
#include <dagprop/tensor.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

class Graph;

class Expr {
 public:
  Expr() = default;
  Expr(Graph* graph, NodeId id) : graph_(graph), id_(id) {}

  bool valid() const { return graph_ != nullptr; }
  explicit operator bool() const { return valid(); }
  Graph& graph() const;
  NodeId id() const { return id_; }

  const Shape& shape() const;
  DType dtype() const;
  std::string name() const;  // full name with scope ("input7" for an unnamed input), "" if none
  std::string_view op_name() const;

  // The latest value: a leaf's own, or what the last run that computed this node left.
  TensorView value() const;
  double item() const { return value().item(); }
  // The gradient that the last backward() stored (parameters and inputs that require it).
  TensorView grad() const;

  friend bool operator==(const Expr& a, const Expr& b) {
    return a.graph_ == b.graph_ && a.id_ == b.id_;
  }

 private:
  Graph* graph_ = nullptr;
  NodeId id_ = kNoNode;
};

Expr operator+(Expr a, Expr b);
Expr operator-(Expr a, Expr b);
Expr operator*(Expr a, Expr b);
Expr operator/(Expr a, Expr b);
Expr operator-(Expr a);
// A double becomes a scalar constant of the other operand's dtype.
Expr operator+(Expr a, double b);
Expr operator+(double a, Expr b);
Expr operator-(Expr a, double b);
Expr operator-(double a, Expr b);
Expr operator*(Expr a, double b);
Expr operator*(double a, Expr b);
Expr operator/(Expr a, double b);
Expr operator/(double a, Expr b);

}  // namespace dagprop
DAGPROP_API_END
