// dagprop_bench_conv_kernels: the measurement behind conv2d's kernels (docs/performance.md, "W6").
// W6's two convolution layers (batch 64: 1->16 5x5 padding 2 on 28x28, 16->32 5x5 padding 2 on
// 14x14), forward, input gradient and weight gradient, through
//   dagprop     the conv2d ops (im2col + OpenBLAS SGEMM in tasks fixed by the shapes; 1 thread:
//               the serial executor, 2: TBB)
//   onednn-nchw oneDNN 2.6 on the plain NCHW / OIHW layouts dagprop's tensors have
//   onednn-any  oneDNN on the blocked layouts it picks itself, without and with the reorders to
//               and from the plain layouts (without: its best case)
// oneDNN runs on its own OpenMP threads (Debian builds it with DNNL_RUNTIME_OMP). Also prints
// whether oneDNN's weight gradient has the same bits at 1 and 2 threads.
//
//   build/tools/dagprop_bench_conv_kernels --threads 1 2 --reps 7
#include <omp.h>

#include <cstdio>
#include <cstring>
#include <dnnl.hpp>
#include <vector>

#include <CLI/CLI.hpp>

#include <dagprop/dagprop.hpp>

#include "ceilings_measure.hpp"
#include "peer_workloads.hpp"

namespace dagprop::bench {
namespace {

struct Layer {
  const char* name;
  std::int64_t batch, in, out, size, kernel, pad;
  std::int64_t out_size() const { return size + 2 * pad - kernel + 1; }
  double flops() const {  // 2 multiply-adds per output element per patch element
    return 2.0 * static_cast<double>(batch * out * out_size() * out_size()) *
           static_cast<double>(in * kernel * kernel);
  }
};
constexpr Layer kLayers[] = {{"conv1", 64, 1, 16, 28, 5, 2}, {"conv2", 64, 16, 32, 14, 5, 2}};
constexpr double kRepSeconds = 0.05;

std::vector<float> values(std::uint64_t seed, std::int64_t count) {
  return symmetric_f32(seed, static_cast<std::size_t>(count), 1.0F);
}

void print_rate(const std::string& row, const std::string& what, const std::vector<double>& s,
                double flops) {
  const Figure f = summarize(s);
  print_figure(row, what + " ms", {f.median * 1e3, f.min * 1e3, f.max * 1e3}, "ms");
  print_value(row, what + " rate", flops / f.median / 1e9, "GFLOP/s");
}

// ---- dagprop: each op as the only node of a plan.
void run_dagprop(const Layer& l, int threads, int reps) {
  Graph g;
  g.set_num_threads(threads == 1 ? 0 : threads);
  const std::int64_t os = l.out_size();
  const Shape xs{l.batch, l.in, l.size, l.size}, ws{l.out, l.in, l.kernel, l.kernel},
      ys{l.batch, l.out, os, os};
  const std::vector<float> xv = values(1, xs.numel()), wv = values(2, ws.numel()),
                           bv = values(3, l.out), gv = values(4, ys.numel());
  const Expr x = g.input("x", xs, DType::f32), grad = g.input("g", ys, DType::f32);
  const Expr w = g.parameter("w", Tensor::from(wv, ws));
  const Expr b = g.parameter("b", Tensor::from(bv, Shape{l.out}));
  const Conv2dOptions o{.padding = {l.pad, l.pad}};
  const Expr forward = conv2d(x, w, b, o);
  const Expr input_grad = conv2d_input_grad(grad, w, {l.size, l.size}, o);
  const Expr weight_grad = conv2d_weight_grad(x, grad, {l.kernel, l.kernel}, o);
  const std::vector<Feed> feeds{{x, TensorView(const_cast<float*>(xv.data()), xs, DType::f32)},
                                {grad, TensorView(const_cast<float*>(gv.data()), ys, DType::f32)}};
  const std::string row = row_name(std::string("W6 ") + l.name, "dagprop", threads);
  for (const auto& [what, node] : {std::pair<const char*, Expr>{"forward", forward},
                                   {"input grad", input_grad},
                                   {"weight grad", weight_grad}}) {
    Function function = g.compile({node});
    std::vector<double> samples;
    for (int r = 0; r <= reps; ++r)
      samples.push_back(seconds_per_call([&] { function.run(feeds); }, kRepSeconds));
    samples.erase(samples.begin());
    print_rate(row, what, samples, l.flops());
  }
}

// ---- oneDNN
struct OneDnnLayer {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::convolution_forward forward;
  dnnl::convolution_backward_data backward_data;
  dnnl::convolution_backward_weights backward_weights;
  dnnl::memory src, weights, bias, dst, diff_dst, diff_src, diff_weights, diff_bias;
  // The same tensors in dagprop's plain layouts, and the reorders between (the blocked case).
  dnnl::memory plain_src, plain_weights, plain_dst, plain_diff_dst, plain_diff_src,
      plain_diff_weights;

  OneDnnLayer(const Layer& l, bool blocked) {
    using tag = dnnl::memory::format_tag;
    using dt = dnnl::memory::data_type;
    const std::int64_t os = l.out_size();
    const dnnl::memory::dims xs{l.batch, l.in, l.size, l.size}, ws{l.out, l.in, l.kernel, l.kernel},
        bs{l.out}, ys{l.batch, l.out, os, os}, strides{1, 1}, pad{l.pad, l.pad};
    const tag act = blocked ? tag::any : tag::nchw, wt = blocked ? tag::any : tag::oihw;
    const dnnl::memory::desc x_md(xs, dt::f32, act), w_md(ws, dt::f32, wt),
        b_md(bs, dt::f32, tag::x), y_md(ys, dt::f32, act);
    const auto fwd_pd = dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                        dnnl::algorithm::convolution_direct, x_md, w_md, b_md, y_md,
                                        strides, pad, pad),
        engine);
    const auto bwd_data_pd = dnnl::convolution_backward_data::primitive_desc(
        dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, x_md, w_md, y_md,
                                              strides, pad, pad),
        engine, fwd_pd);
    const auto bwd_weights_pd = dnnl::convolution_backward_weights::primitive_desc(
        dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, x_md, w_md,
                                                 b_md, y_md, strides, pad, pad),
        engine, fwd_pd);
    forward = dnnl::convolution_forward(fwd_pd);
    backward_data = dnnl::convolution_backward_data(bwd_data_pd);
    backward_weights = dnnl::convolution_backward_weights(bwd_weights_pd);
    src = fill(dnnl::memory(fwd_pd.src_desc(), engine), 1);
    weights = fill(dnnl::memory(fwd_pd.weights_desc(), engine), 2);
    bias = fill(dnnl::memory(fwd_pd.bias_desc(), engine), 3);
    dst = dnnl::memory(fwd_pd.dst_desc(), engine);
    diff_dst = fill(dnnl::memory(bwd_data_pd.diff_dst_desc(), engine), 4);
    diff_src = dnnl::memory(bwd_data_pd.diff_src_desc(), engine);
    diff_weights = dnnl::memory(bwd_weights_pd.diff_weights_desc(), engine);
    diff_bias = dnnl::memory(bwd_weights_pd.diff_bias_desc(), engine);
    const dnnl::memory::desc x_plain(xs, dt::f32, tag::nchw), w_plain(ws, dt::f32, tag::oihw),
        y_plain(ys, dt::f32, tag::nchw);
    plain_src = fill(dnnl::memory(x_plain, engine), 1);
    plain_weights = fill(dnnl::memory(w_plain, engine), 2);
    plain_dst = dnnl::memory(y_plain, engine);
    plain_diff_dst = fill(dnnl::memory(y_plain, engine), 4);
    plain_diff_src = dnnl::memory(x_plain, engine);
    plain_diff_weights = dnnl::memory(w_plain, engine);
    impl = std::string(fwd_pd.impl_info_str()) + " / " + bwd_data_pd.impl_info_str() + " / " +
           bwd_weights_pd.impl_info_str();
  }
  // Numbers only: blocked layouts see a permutation of the generator's values, the same work.
  static dnnl::memory fill(dnnl::memory m, std::uint64_t seed) {
    const std::size_t count = m.get_desc().get_size() / sizeof(float);
    const std::vector<float> v = symmetric_f32(seed, count, 1.0F);
    std::memcpy(m.get_data_handle(), v.data(), count * sizeof(float));
    return m;
  }
  void run_forward() {
    forward.execute(stream, {{DNNL_ARG_SRC, src},
                             {DNNL_ARG_WEIGHTS, weights},
                             {DNNL_ARG_BIAS, bias},
                             {DNNL_ARG_DST, dst}});
    stream.wait();
  }
  void run_backward_data() {
    backward_data.execute(stream, {{DNNL_ARG_DIFF_DST, diff_dst},
                                   {DNNL_ARG_WEIGHTS, weights},
                                   {DNNL_ARG_DIFF_SRC, diff_src}});
    stream.wait();
  }
  void run_backward_weights() {
    backward_weights.execute(stream, {{DNNL_ARG_SRC, src},
                                      {DNNL_ARG_DIFF_DST, diff_dst},
                                      {DNNL_ARG_DIFF_WEIGHTS, diff_weights},
                                      {DNNL_ARG_DIFF_BIAS, diff_bias}});
    stream.wait();
  }
  // The blocked primitives with the reorders from and to the plain layouts that dagprop's
  // tensors have (what an op on NCHW tensors would pay).
  void reorder(dnnl::memory& from, dnnl::memory& to) {
    if (from.get_desc() == to.get_desc()) return;
    dnnl::reorder(from, to).execute(stream, from, to);
  }
  void run_forward_plain() {
    reorder(plain_src, src);
    reorder(plain_weights, weights);
    run_forward();
    reorder(dst, plain_dst);
    stream.wait();
  }
  void run_backward_data_plain() {
    reorder(plain_diff_dst, diff_dst);
    reorder(plain_weights, weights);
    run_backward_data();
    reorder(diff_src, plain_diff_src);
    stream.wait();
  }
  void run_backward_weights_plain() {
    reorder(plain_src, src);
    reorder(plain_diff_dst, diff_dst);
    run_backward_weights();
    reorder(diff_weights, plain_diff_weights);
    stream.wait();
  }
  std::vector<float> weight_gradient() {
    run_backward_weights();
    const auto* p = static_cast<const float*>(diff_weights.get_data_handle());
    return {p, p + diff_weights.get_desc().get_size() / sizeof(float)};
  }
  std::string impl;
};

void run_onednn(const Layer& l, int threads, int reps, bool blocked) {
  omp_set_num_threads(threads);
  OneDnnLayer layer(l, blocked);
  const std::string row =
      row_name(std::string("W6 ") + l.name, blocked ? "onednn-any" : "onednn-nchw", threads);
  std::printf("# %s %s: %s\n", row.c_str(), "implementations", layer.impl.c_str());
  for (const auto& [what, f] :
       {std::pair<const char*, void (OneDnnLayer::*)()>{"forward", &OneDnnLayer::run_forward},
        {"input grad", &OneDnnLayer::run_backward_data},
        {"weight grad", &OneDnnLayer::run_backward_weights},
        {"forward+reorders", &OneDnnLayer::run_forward_plain},
        {"input grad+reorders", &OneDnnLayer::run_backward_data_plain},
        {"weight grad+reorders", &OneDnnLayer::run_backward_weights_plain}}) {
    if (!blocked && std::string(what).find("reorders") != std::string::npos) continue;
    std::vector<double> samples;
    for (int r = 0; r <= reps; ++r)
      samples.push_back(seconds_per_call([&, f = f] { (layer.*f)(); }, kRepSeconds));
    samples.erase(samples.begin());
    print_rate(row, what, samples, l.flops());
  }
}

// Whether oneDNN's weight gradient has the same bits on 1 and on 2 threads.
void check_onednn_bits(const Layer& l) {
  omp_set_num_threads(1);
  const std::vector<float> one = OneDnnLayer(l, false).weight_gradient();
  omp_set_num_threads(2);
  const std::vector<float> two = OneDnnLayer(l, false).weight_gradient();
  const bool same = one.size() == two.size() &&
                    std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0;
  std::printf("%-28s %-24s %s\n", (std::string("W6 ") + l.name + " onednn-nchw").c_str(),
              "weight grad 1t vs 2t", same ? "bitwise equal" : "DIFFERENT BITS");
}

}  // namespace
}  // namespace dagprop::bench

int main(int argc, char** argv) {
  using namespace dagprop::bench;
  CLI::App app{"W6's convolutions through dagprop's conv2d and through oneDNN"};
  RunOptions options;
  add_run_options(app, options);
  CLI11_PARSE(app, argc, argv);
  return run_program("dagprop_bench_conv_kernels", [&] {
    print_machine("dagprop_bench_conv_kernels (oneDNN " + std::to_string(dnnl_version()->major) +
                  "." + std::to_string(dnnl_version()->minor) + "." +
                  std::to_string(dnnl_version()->patch) + ")");
    for (const Layer& l : kLayers) {
      for (const int t : options.threads) {
        run_dagprop(l, t, options.reps);
        run_onednn(l, t, options.reps, false);
        run_onednn(l, t, options.reps, true);
      }
      check_onednn_bits(l);
    }
  });
}
