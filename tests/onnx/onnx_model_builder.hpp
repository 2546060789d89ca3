// Small ONNX models written in tests with libonnx's protobuf classes: valid ones to start from,
// and broken ones for the importer to refuse.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace dagprop::testing {

class OnnxModelBuilder {
 public:
  explicit OnnxModelBuilder(std::int64_t opset = 17) {
    model_.set_ir_version(8);
    model_.set_producer_name("dagprop tests");
    auto* op = model_.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }

  onnx::ValueInfoProto& input(const std::string& name, std::vector<std::int64_t> dims,
                              std::int32_t elem = onnx::TensorProto::FLOAT) {
    auto* in = model_.mutable_graph()->add_input();
    in->set_name(name);
    auto* t = in->mutable_type()->mutable_tensor_type();
    t->set_elem_type(elem);
    auto* shape = t->mutable_shape();
    for (const auto d : dims) shape->add_dim()->set_dim_value(d);
    return *in;
  }
  void output(const std::string& name) { model_.mutable_graph()->add_output()->set_name(name); }

  onnx::TensorProto& initializer(const std::string& name, std::vector<std::int64_t> dims,
                                 const std::vector<float>& values) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (const auto d : dims) t->add_dims(d);
    for (const float v : values) t->add_float_data(v);
    return *t;
  }

  onnx::NodeProto& node(const std::string& op, std::initializer_list<std::string> inputs,
                        std::initializer_list<std::string> outputs, const std::string& name = "") {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + std::to_string(model_.graph().node_size()) : name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }
  static void int_attribute(onnx::NodeProto& n, const std::string& name, std::int64_t value) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  static void ints_attribute(onnx::NodeProto& n, const std::string& name,
                             std::vector<std::int64_t> values) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (const auto v : values) a->add_ints(v);
  }

  onnx::ModelProto& model() { return model_; }
  std::string bytes() const { return model_.SerializeAsString(); }

 private:
  onnx::ModelProto model_;
};

}  // namespace dagprop::testing
