// A program registers its own op, with its own kernels and gradient rule, without editing dagprop;
// it then behaves like a built-in op.
#include <gtest/gtest.h>

#include <dagprop/dagprop.hpp>

namespace dagprop {
namespace {

// cube(x) = x^3, gradient 3 x^2 g.
template <class T>
void cube_forward(const KernelCall& call) {
  const T* x = call.inputs[0].as<T>();
  T* y = call.output.as<T>();
  for (std::int64_t i = 0; i < call.output.numel(); ++i) y[i] = x[i] * x[i] * x[i];
}
Shape cube_shape(const ShapeQuery& query) {
  return query.inputs[0];
}
void cube_vjp(GradContext& c) {
  c.set(0, c.grad_output() * 3.0 * c.input(0) * c.input(0));
}

OpId cube_op() {
  static const OpId id = OpRegistry::global().add(OpDef{.name = "test_cube",
                                                        .arity = 1,
                                                        .shape = cube_shape,
                                                        .forward_f32 = cube_forward<float>,
                                                        .forward_f64 = cube_forward<double>,
                                                        .vjp = cube_vjp,
                                                        .forward_doc = "y = x^3",
                                                        .gradient_doc = "dx = 3 x^2 g"});
  return id;
}
Expr cube(Expr x) {
  return x.graph().apply(cube_op(), std::vector<Expr>{x});
}

TEST(UserOp, RunsAndDifferentiatesLikeABuiltInOp) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::from({0.5, -1.5, 2.0}, Shape{3}));
  const Expr y = sum(cube(x) * sigmoid(x));
  EXPECT_TRUE(gradcheck(y, {x}).ok);
  EXPECT_TRUE(check_local_gradients(y).empty());
  const Expr second = grad(grad(sum(cube(x)), std::vector<Expr>{x})[0] * 1.0, x,
                           g.constant(Tensor::from({1.0, 1.0, 1.0}, Shape{3})));
  EXPECT_EQ(g.run(second).to_vector(), (std::vector<double>{3.0, -9.0, 12.0}));  // 6x
  EXPECT_EQ(g.op_name_of(cube(x).id()), "test_cube");
}

TEST(UserOp, IncompleteDefinitionIsRejectedWithTheMissingPart) {
  try {
    OpRegistry::global().add(OpDef{.name = "test_no_gradient",
                                   .arity = 1,
                                   .shape = cube_shape,
                                   .forward_f64 = cube_forward<double>,
                                   .forward_doc = "y = x^3",
                                   .gradient_doc = "?"});
    FAIL() << "an op without a gradient rule was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has no gradient rule"), std::string::npos) << e.what();
  }
}

TEST(UserOp, NameClashWithABuiltInIsRejected) {
  EXPECT_THROW(OpRegistry::global().add(OpDef{.name = "tanh",
                                              .arity = 1,
                                              .shape = cube_shape,
                                              .forward_f64 = cube_forward<double>,
                                              .vjp = cube_vjp,
                                              .forward_doc = "y",
                                              .gradient_doc = "g"}),
               Error);
}

}  // namespace
}  // namespace dagprop
