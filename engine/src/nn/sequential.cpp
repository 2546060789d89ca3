// Sequential models from a line of text: parsing, shapes through the ops' own rules, building.
#include <dagprop/nn/sequential.hpp>

#include <charconv>
#include <cmath>
#include <sstream>
#include <variant>

#include <dagprop/error.hpp>
#include <dagprop/nn/activation.hpp>
#include <dagprop/ops.hpp>

namespace dagprop::nn {
namespace {

std::string_view trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::istringstream in{std::string(text)};
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

[[noreturn]] void fail(const LayerSpec& layer, const std::string& what) {
  throw Error("layer " + std::to_string(layer.position) + " '" + layer.text + "': " + what);
}

// What each kind takes: its positional numbers (name and whether whole), then its named options.
struct KindRule {
  std::string_view kind;
  std::vector<std::string_view> numbers;  // positional, required
  std::vector<std::string_view> options;  // "stride 2", "pad 1", ... or flags ("nobias")
  std::string_view help;
};

const std::vector<KindRule>& kind_rules() {
  static const std::vector<KindRule> rules = [] {
    std::vector<KindRule> r = {
        {"conv",
         {"OUT", "K"},
         {"stride", "pad", "dilation", "groups", "nobias"},
         "conv OUT K [stride S] [pad P] [dilation D] [groups G] [nobias]: conv2d, OUT channels, "
         "K x K kernels (PyTorch's layout and fan-in initialization)"},
        {"maxpool",
         {"K"},
         {"stride", "pad"},
         "maxpool K [stride S] [pad P]: max over K x K windows (stride K unless given)"},
        {"avgpool", {"K"}, {"stride", "pad"}, "avgpool K [stride S] [pad P]: mean over windows"},
        {"globalavgpool", {}, {}, "globalavgpool: the mean of each channel, [C, H, W] -> [C]"},
        {"flatten", {}, {}, "flatten: [C, H, W] -> [C * H * W]"},
        {"dense", {"OUT"}, {}, "dense OUT: matmul(x, W) + b, OUT features"},
        {"batchnorm", {}, {}, "batchnorm: batch normalization over the channels (axis 1)"},
        {"layernorm", {}, {}, "layernorm: layer normalization over the last axis"},
        {"dropout", {"P"}, {}, "dropout P: drop with probability P in training"},
    };
    for (const std::string_view name : activation_names())
      r.push_back({name, {}, {}, "an activation"});
    return r;
  }();
  return rules;
}

const KindRule& rule_of(const LayerSpec& layer) {
  for (const KindRule& rule : kind_rules())
    if (rule.kind == layer.kind) return rule;
  std::string kinds;
  for (const KindRule& rule : kind_rules())
    kinds += (kinds.empty() ? "" : ", ") + std::string(rule.kind);
  fail(layer, "unknown layer kind '" + layer.kind + "'; the kinds are " + kinds);
}

double number(const LayerSpec& layer, std::string_view what, const std::string& word) {
  double value = 0;
  const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (error != std::errc{} || end != word.data() + word.size() || !std::isfinite(value))
    fail(layer, std::string(what) + " should be a number, got '" + word + "'");
  return value;
}

std::int64_t whole(const LayerSpec& layer, std::string_view what, const std::string& word,
                   std::int64_t at_least) {
  const double value = number(layer, what, word);
  if (value != std::floor(value) || value < static_cast<double>(at_least) || value > 1e9) {
    fail(layer, std::string(what) + " should be a whole number of at least " +
                    std::to_string(at_least) + ", got '" + word + "'");
  }
  return static_cast<std::int64_t>(value);
}

// A layer's arguments, checked against its kind's rule.
struct Arguments {
  std::vector<std::string> numbers;
  std::vector<std::pair<std::string, std::string>> options;  // flags have an empty value
  std::string option(std::string_view name) const {
    for (const auto& [key, value] : options)
      if (key == name) return value;
    return {};
  }
  bool has(std::string_view name) const {
    for (const auto& option : options)
      if (option.first == name) return true;
    return false;
  }
};

Arguments arguments_of(const LayerSpec& layer) {
  const KindRule& rule = rule_of(layer);
  Arguments args;
  std::size_t i = 0;
  for (; i < layer.words.size() && args.numbers.size() < rule.numbers.size(); ++i)
    args.numbers.push_back(layer.words[i]);
  if (args.numbers.size() < rule.numbers.size()) {
    fail(layer, "'" + std::string(rule.kind) + "' needs " + std::to_string(rule.numbers.size()) +
                    " number(s): " + std::string(rule.help));
  }
  while (i < layer.words.size()) {
    const std::string& word = layer.words[i++];
    bool known = false;
    for (const std::string_view option : rule.options) known = known || option == word;
    if (!known || args.has(word)) {
      fail(layer, (known ? "'" + word + "' given twice" : "unexpected '" + word + "'") + "; " +
                      std::string(rule.help));
    }
    if (word == "nobias") {
      args.options.emplace_back(word, "");
      continue;
    }
    if (i == layer.words.size()) fail(layer, "'" + word + "' needs a number after it");
    args.options.emplace_back(word, layer.words[i++]);
  }
  return args;
}

// A built layer: what it is, and the nodes of its last training application.
struct Activate {
  const Activation* activation;
};
struct GlobalAvgPool {};
using Layer = std::variant<Conv2d, MaxPool2d, AvgPool2d, GlobalAvgPool, Flatten, Linear,
                           std::unique_ptr<BatchNorm>, LayerNorm, Dropout, Activate>;

Expr apply_layer(const Layer& layer, Expr x, Mode mode) {
  return std::visit(
      [&](const auto& l) -> Expr {
        using L = std::decay_t<decltype(l)>;
        if constexpr (std::is_same_v<L, GlobalAvgPool>) {
          return global_avg_pool2d(x);
        } else if constexpr (std::is_same_v<L, std::unique_ptr<BatchNorm>>) {
          return l->apply(x, mode);
        } else if constexpr (std::is_same_v<L, Dropout>) {
          return l.apply(x, mode);
        } else if constexpr (std::is_same_v<L, Activate>) {
          return l.activation->apply(x);
        } else {
          return l(x);
        }
      },
      layer);
}

// A layer's parameters, weight before bias, gamma before beta.
std::vector<Expr> parameters_of(const Layer& layer) {
  return std::visit(
      [](const auto& l) -> std::vector<Expr> {
        using L = std::decay_t<decltype(l)>;
        if constexpr (std::is_same_v<L, Conv2d>) {
          if (l.bias().valid()) return {l.weight(), l.bias()};
          return {l.weight()};
        } else if constexpr (std::is_same_v<L, Linear>) {
          return {l.weight(), l.bias()};
        } else if constexpr (std::is_same_v<L, std::unique_ptr<BatchNorm>>) {
          return l->parameters();
        } else if constexpr (std::is_same_v<L, LayerNorm>) {
          return l.parameters();
        } else {
          return {};
        }
      },
      layer);
}

}  // namespace

std::vector<LayerSpec> parse_model_spec(std::string_view spec) {
  std::vector<LayerSpec> layers;
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', start), spec.size());
    LayerSpec layer;
    layer.text = std::string(trim(spec.substr(start, comma - start)));
    layer.position = static_cast<int>(layers.size()) + 1;
    std::vector<std::string> words = split_words(layer.text);
    if (words.empty()) {
      throw Error("the model '" + std::string(trim(spec)) + "' has an empty layer at position " +
                  std::to_string(layer.position) +
                  "; write layers separated by commas, e.g. 'dense 128, relu, dense 10'");
    }
    layer.kind = words.front();
    layer.words.assign(words.begin() + 1, words.end());
    (void)arguments_of(layer);  // kinds and argument counts are checked here, shapes when built
    layers.push_back(std::move(layer));
    start = comma + 1;
  }
  return layers;
}

std::string model_spec_help() {
  std::string help;
  for (const KindRule& rule : kind_rules()) {
    if (rule.help == "an activation") continue;
    help += "  " + std::string(rule.help) + "\n";
  }
  std::string names;
  for (const std::string_view name : activation_names())
    names += (names.empty() ? "" : ", ") + std::string(name);
  return help + "  activations: " + names + "\n";
}

struct Sequential::Impl {
  std::vector<LayerSpec> specs;
  std::vector<Layer> layers;
  std::vector<std::vector<std::int64_t>> shapes;  // each layer's per-example output shape
  std::vector<std::int64_t> parameter_counts;
  std::vector<std::int64_t> example_shape;
};

Sequential::Sequential(Graph& graph, std::string_view spec, std::vector<std::int64_t> example_shape,
                       SplitMix64& random, DType dtype)
    : impl_(std::make_unique<Impl>()) {
  impl_->specs = parse_model_spec(spec);
  impl_->example_shape = example_shape;
  // Shapes come from the ops' own shape rules, applied to one example in a scratch graph: the
  // model's graph gets only the parameters.
  Graph scratch;
  std::vector<std::int64_t> batch_shape{1};
  batch_shape.insert(batch_shape.end(), example_shape.begin(), example_shape.end());
  Expr probe = scratch.input("x", Shape(batch_shape), dtype);
  SplitMix64 scratch_random(0);
  int counts[16] = {};
  const auto scope_for = [&](std::string_view kind, int slot) {
    return std::string(kind) + std::to_string(++counts[slot]);
  };
  for (std::size_t index = 0; index < impl_->specs.size(); ++index) {
    const LayerSpec& layer = impl_->specs[index];
    const Arguments args = arguments_of(layer);
    const Shape& in = probe.shape();
    const auto need_rank = [&](int rank, const char* what) {
      if (in.rank() != rank) {
        fail(layer, std::string("takes ") + what + ", but its input is " + in.to_string() +
                        " (batch first)" +
                        (rank == 2 && in.rank() == 4 ? "; put 'flatten' before it" : ""));
      }
    };
    const auto option = [&](std::string_view name, std::int64_t fallback, std::int64_t at_least) {
      const std::string value = args.option(name);
      return value.empty() ? fallback : whole(layer, name, value, at_least);
    };
    try {
      Layer built = GlobalAvgPool{};
      Layer scratch_layer = GlobalAvgPool{};
      if (layer.kind == "conv") {
        need_rank(4, "images [batch, channels, height, width]");
        const std::int64_t out = whole(layer, "OUT", args.numbers[0], 1);
        const std::int64_t k = whole(layer, "K", args.numbers[1], 1);
        const Conv2dOptions options{
            .stride = {option("stride", 1, 1), option("stride", 1, 1)},
            .padding = {option("pad", 0, 0), option("pad", 0, 0)},
            .dilation = {option("dilation", 1, 1), option("dilation", 1, 1)},
            .groups = option("groups", 1, 1)};
        const bool bias = !args.has("nobias");
        const std::string scope = scope_for("conv", 0);
        built = Conv2d(graph, scope, in[1], out, {k, k}, random, options, bias, dtype);
        scratch_layer =
            Conv2d(scratch, scope, in[1], out, {k, k}, scratch_random, options, bias, dtype);
      } else if (layer.kind == "maxpool" || layer.kind == "avgpool") {
        need_rank(4, "images [batch, channels, height, width]");
        const std::int64_t k = whole(layer, "K", args.numbers[0], 1);
        const Pool2dOptions options{.kernel = {k, k},
                                    .stride = {option("stride", k, 1), option("stride", k, 1)},
                                    .padding = {option("pad", 0, 0), option("pad", 0, 0)}};
        if (layer.kind == "maxpool") {
          built = MaxPool2d(options);
        } else {
          built = AvgPool2d(options);
        }
      } else if (layer.kind == "globalavgpool") {
        need_rank(4, "images [batch, channels, height, width]");
      } else if (layer.kind == "flatten") {
        built = Flatten();
      } else if (layer.kind == "dense") {
        need_rank(2, "features [batch, features]");
        const std::int64_t out = whole(layer, "OUT", args.numbers[0], 1);
        // He for a layer followed by a rectifier-like activation, Glorot otherwise (the logits).
        Init init = Init::glorot_uniform;
        if (index + 1 < impl_->specs.size()) {
          for (const Activation& a : activations())
            if (a.name == impl_->specs[index + 1].kind) init = a.init;
        }
        const std::string scope = scope_for("dense", 1);
        built = Linear(graph, scope, in[1], out, init, random, dtype);
        scratch_layer = Linear(scratch, scope, in[1], out, init, scratch_random, dtype);
      } else if (layer.kind == "batchnorm") {
        if (in.rank() < 2) fail(layer, "takes [batch, channels, ...], got " + in.to_string());
        const std::string scope = scope_for("batchnorm", 2);
        built = std::make_unique<BatchNorm>(graph, scope, in[1], dtype);
        scratch_layer = std::make_unique<BatchNorm>(scratch, scope, in[1], dtype);
      } else if (layer.kind == "layernorm") {
        const std::string scope = scope_for("layernorm", 3);
        built = LayerNorm(graph, scope, in[in.rank() - 1], dtype);
        scratch_layer = LayerNorm(scratch, scope, in[in.rank() - 1], dtype);
      } else if (layer.kind == "dropout") {
        const double p = number(layer, "P", args.numbers[0]);
        if (!(p >= 0 && p < 1)) fail(layer, "P should be in [0, 1), got " + args.numbers[0]);
        const std::string scope = scope_for("dropout", 4);
        built = Dropout(graph, scope, p, random, dtype);
        scratch_layer = Dropout(scratch, scope, p, scratch_random, dtype);
      } else {
        built = Activate{&activation_by_name(layer.kind)};
      }
      // A layer with nodes of its own (parameters, a dropout step) runs as its scratch copy.
      const bool has_copy = !std::holds_alternative<GlobalAvgPool>(scratch_layer);
      probe = apply_layer(has_copy ? scratch_layer : built, probe, Mode::train);
      impl_->layers.push_back(std::move(built));
    } catch (const Error& e) {
      const std::string what = e.what();
      if (what.rfind("layer ", 0) == 0) throw;
      fail(layer, "does not fit its input " + in.to_string() + ": " + what);
    }
    const auto dims = probe.shape().dims();
    impl_->shapes.emplace_back(dims.begin() + 1, dims.end());
  }
  for (const Layer& layer : impl_->layers) {
    std::int64_t count = 0;
    for (const Expr& parameter : parameters_of(layer)) count += parameter.shape().numel();
    impl_->parameter_counts.push_back(count);
  }
}

Sequential::~Sequential() = default;
Sequential::Sequential(Sequential&&) noexcept = default;
Sequential& Sequential::operator=(Sequential&&) noexcept = default;

Expr Sequential::apply(Expr x, Mode mode) const {
  const auto dims = x.shape().dims();
  if (dims.size() != impl_->example_shape.size() + 1 ||
      !std::equal(dims.begin() + 1, dims.end(), impl_->example_shape.begin())) {
    throw Error("the model takes [batch, " +
                shape_text(impl_->example_shape).substr(1, std::string::npos) + ", got " +
                x.graph().describe(x.id()) + "; feed examples of the shape it was built for");
  }
  for (const Layer& layer : impl_->layers) x = apply_layer(layer, x, mode);
  return x;
}

std::vector<Expr> Sequential::parameters() const {
  std::vector<Expr> params;
  for (const Layer& layer : impl_->layers) {
    for (const Expr& parameter : parameters_of(layer)) params.push_back(parameter);
  }
  return params;
}

std::vector<Expr> Sequential::weights() const {
  std::vector<Expr> weights;
  for (const Layer& layer : impl_->layers) {
    if (const auto* conv = std::get_if<Conv2d>(&layer)) weights.push_back(conv->weight());
    if (const auto* linear = std::get_if<Linear>(&layer)) weights.push_back(linear->weight());
  }
  return weights;
}

std::vector<Expr> Sequential::batch_statistics() const {
  std::vector<Expr> statistics;
  for (const Layer& layer : impl_->layers) {
    if (const auto* norm = std::get_if<std::unique_ptr<BatchNorm>>(&layer)) {
      if ((*norm)->batch_statistics().valid()) statistics.push_back((*norm)->batch_statistics());
    }
  }
  return statistics;
}

void Sequential::end_training_step() {
  for (Layer& layer : impl_->layers) {
    if (auto* norm = std::get_if<std::unique_ptr<BatchNorm>>(&layer)) {
      if ((*norm)->batch_statistics().valid()) (*norm)->update_running_statistics();
    }
    if (auto* dropout = std::get_if<Dropout>(&layer)) dropout->advance();
  }
}

std::vector<Expr> Sequential::state() const {
  std::vector<Expr> state;
  for (const Layer& layer : impl_->layers) {
    if (const auto* norm = std::get_if<std::unique_ptr<BatchNorm>>(&layer))
      state.push_back((*norm)->running_moments());
    if (const auto* dropout = std::get_if<Dropout>(&layer)) state.push_back(dropout->step());
  }
  return state;
}

const std::vector<std::int64_t>& Sequential::output_shape() const {
  return impl_->shapes.empty() ? impl_->example_shape : impl_->shapes.back();
}

std::int64_t Sequential::parameter_count() const {
  std::int64_t total = 0;
  for (const std::int64_t count : impl_->parameter_counts) total += count;
  return total;
}

const std::vector<LayerSpec>& Sequential::layers() const {
  return impl_->specs;
}

std::string Sequential::summary() const {
  std::string text = "input " + shape_text(impl_->example_shape) + "\n";
  for (std::size_t i = 0; i < impl_->specs.size(); ++i) {
    text +=
        std::to_string(i + 1) + ". " + impl_->specs[i].text + " -> " + shape_text(impl_->shapes[i]);
    if (impl_->parameter_counts[i] > 0)
      text += ", " + std::to_string(impl_->parameter_counts[i]) + " parameters";
    text += "\n";
  }
  return text + "parameters " + std::to_string(parameter_count()) + "\n";
}

}  // namespace dagprop::nn
