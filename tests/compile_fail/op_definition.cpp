// An op definition checked where it is written (op_definition_is_complete in <dagprop/op_def.hpp>).
// Compiled by tests/CMakeLists.txt once complete (it must compile) and once per -DDROP_<FIELD>
// (it must not, and the compiler must quote what is missing).
#include <dagprop/op_def.hpp>

namespace {

dagprop::Shape same_shape(const dagprop::ShapeQuery& q) {
  return q.inputs[0];
}
void forward(const dagprop::KernelCall&) {}
void vjp(dagprop::GradContext&) {}

constexpr dagprop::OpDef kDefinition{.name = "twice",
                                     .arity = 1,
#ifndef DROP_SHAPE
                                     .shape = &same_shape,
#endif
#ifndef DROP_FORWARD_F32
                                     .forward_f32 = &forward,
#endif
                                     .forward_f64 = &forward,
#ifndef DROP_VJP
                                     .vjp = &vjp,
#endif
#ifndef DROP_DOCS
                                     .forward_doc = "y = 2 x",
#endif
                                     .gradient_doc = "dx = 2 g"};
static_assert(dagprop::op_definition_is_complete(kDefinition));

}  // namespace

int main() {
  return kDefinition.arity == 1 ? 0 : 1;
}
