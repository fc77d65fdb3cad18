// 2-D convolution on oneDNN: forward (optionally fused with bias, a residual add and an
// activation, as post-ops), the gradient with respect to the input (backward data) and with
// respect to the filter (backward weights). Layouts are tfjs's: x and y NHWC, the filter
// HWIO ([kh, kw, in, out]). The primitives run on NHWC activations in place and on weights
// reordered once into the layout oneDNN chose (format_tag::any), cached per weight tensor.
#include "common.h"

#include <cstring>

namespace resdet {
namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

/** The shapes and geometry of one convolution, from the Int32Array JS passes. */
struct Geometry {
  int64_t n, h, w, c, kh, kw, o, oh, ow, sh, sw, dh, dw, pt, pl, pb, pr;
  explicit Geometry(const I32 &p) {
    if (p.length != 17) throw ArgError("conv geometry: expected 17 integers");
    int64_t *f[] = {&n, &h, &w, &c, &kh, &kw, &o, &oh, &ow, &sh, &sw, &dh, &dw, &pt, &pl, &pb, &pr};
    for (size_t i = 0; i < 17; i++) *f[i] = p.data[i];
    for (size_t i = 0; i < 13; i++) {
      if (*f[i] < 1) throw ArgError("conv geometry: sizes, strides and dilations must be >= 1");
    }
    for (size_t i = 13; i < 17; i++) {
      if (*f[i] < 0) throw ArgError("conv geometry: padding must be >= 0");
    }
    // The output size oneDNN derives must be tfjs's (else the shapes disagree: refuse).
    auto out = [](int64_t in, int64_t k, int64_t s, int64_t d, int64_t lo, int64_t hi) {
      return (in + lo + hi - ((k - 1) * d + 1)) / s + 1;
    };
    if (out(h, kh, sh, dh, pt, pb) != oh || out(w, kw, sw, dw, pl, pr) != ow) {
      throw dnnl::error(dnnl_unimplemented, "output size does not follow from the padding");
    }
  }
  std::vector<int64_t> all() const { return {n, h, w, c, kh, kw, o, oh, ow, sh, sw, dh, dw, pt, pl, pb, pr}; }
  dnnl::memory::desc src() const { return {{n, c, h, w}, dt::f32, tag::nhwc}; }
  dnnl::memory::desc dst() const { return {{n, o, oh, ow}, dt::f32, tag::nhwc}; }
  dnnl::memory::desc userWeights() const { return {{o, c, kh, kw}, dt::f32, tag::hwio}; }
  dnnl::memory::desc anyWeights() const { return {{o, c, kh, kw}, dt::f32, tag::any}; }
  dims strides() const { return {sh, sw}; }
  dims dilates() const { return {dh - 1, dw - 1}; }
  dims padL() const { return {pt, pl}; }
  dims padR() const { return {pb, pr}; }
  size_t srcCount() const { return static_cast<size_t>(n * h * w * c); }
  size_t dstCount() const { return static_cast<size_t>(n * oh * ow * o); }
  size_t weightCount() const { return static_cast<size_t>(kh * kw * c * o); }
};

dnnl::convolution_forward::desc forwardDesc(const Geometry &g, bool bias) {
  auto prop = dnnl::prop_kind::forward_training;
  auto alg = dnnl::algorithm::convolution_direct;
  if (bias) {
    return {prop, alg, g.src(), g.anyWeights(), dnnl::memory::desc({g.o}, dt::f32, tag::x), g.dst(), g.strides(), g.dilates(), g.padL(), g.padR()};
  }
  return {prop, alg, g.src(), g.anyWeights(), g.dst(), g.strides(), g.dilates(), g.padL(), g.padR()};
}


struct Fwd {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
};
struct BwdData {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data prim;
};
struct BwdWeights {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights prim;
};

thread_local LruCache<Fwd> fwdCache(256);
thread_local LruCache<BwdData> bwdDataCache(256);
thread_local LruCache<BwdWeights> bwdWeightsCache(256);

/**
 * conv2d(x, filter, bias|null, add|null, out, geometry, activation, alpha, weightId)
 * out = act(conv(x, filter) + bias + add); `add` (a residual, shaped as out) may be `out` itself.
 */
napi_value conv2d(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 9);
    F32 x = f32(env, a[0], "x"), w = f32(env, a[1], "filter"), bias = f32(env, a[2], "bias", true);
    F32 add = f32(env, a[3], "add", true), out = f32(env, a[4], "out");
    Geometry g(i32(env, a[5], "geometry"));
    int act = static_cast<int>(number(env, a[6], "activation"));
    float alpha = static_cast<float>(number(env, a[7], "alpha"));
    int64_t weightId = static_cast<int64_t>(number(env, a[8], "weightId"));
    need(x, g.srcCount(), "x");
    need(w, g.weightCount(), "filter");
    need(out, g.dstCount(), "out");
    if (bias.data) need(bias, static_cast<size_t>(g.o), "bias");
    if (add.data) need(add, g.dstCount(), "add");

    auto k = g.all();
    k.insert(k.end(), {act, static_cast<int64_t>(alpha * 1e6), bias.data != nullptr, add.data != nullptr});
    std::string ck = key("fwd", k);
    Fwd *p = fwdCache.find(ck);
    if (!p) {
      dnnl::post_ops po;
      if (add.data) po.append_sum(1.f);
      appendActivation(po, act, alpha);
      dnnl::primitive_attr attr;
      attr.set_post_ops(po);
      dnnl::convolution_forward::primitive_desc pd(forwardDesc(g, bias.data != nullptr), attr, engine());
      p = &fwdCache.insert(ck, Fwd{pd, dnnl::convolution_forward(pd)});
    }
    auto &eng = engine();
    dnnl::memory src(g.src(), eng, x.data), dst(g.dst(), eng, out.data);
    dnnl::memory user(g.userWeights(), eng, w.data);
    dnnl::memory weights = cachedWeights(weightId, p->pd.weights_desc(), user);
    if (add.data && add.data != out.data) std::memcpy(out.data, add.data, g.dstCount() * sizeof(float));
    std::unordered_map<int, dnnl::memory> margs{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
    if (bias.data) margs.insert({DNNL_ARG_BIAS, dnnl::memory({{g.o}, dt::f32, tag::x}, eng, bias.data)});
    p->prim.execute(stream(), margs);
    stream().wait();
    return undefined(env);
  });
}

/** conv2dBackpropInput(dy, filter, dx, geometry, weightId): dx = conv^T(dy, filter). */
napi_value conv2dBackpropInput(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 5);
    F32 dy = f32(env, a[0], "dy"), w = f32(env, a[1], "filter"), dx = f32(env, a[2], "dx");
    Geometry g(i32(env, a[3], "geometry"));
    int64_t weightId = static_cast<int64_t>(number(env, a[4], "weightId"));
    need(dy, g.dstCount(), "dy");
    need(w, g.weightCount(), "filter");
    need(dx, g.srcCount(), "dx");
    std::string ck = key("bwd_data", g.all());
    BwdData *p = bwdDataCache.find(ck);
    if (!p) {
      dnnl::convolution_forward::primitive_desc hint(forwardDesc(g, false), engine());
      dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, g.src(), g.anyWeights(), g.dst(), g.strides(), g.dilates(), g.padL(), g.padR());
      dnnl::convolution_backward_data::primitive_desc pd(d, engine(), hint);
      p = &bwdDataCache.insert(ck, BwdData{pd, dnnl::convolution_backward_data(pd)});
    }
    auto &eng = engine();
    dnnl::memory diffDst(g.dst(), eng, dy.data), diffSrc(g.src(), eng, dx.data);
    dnnl::memory user(g.userWeights(), eng, w.data);
    dnnl::memory weights = cachedWeights(weightId, p->pd.weights_desc(), user);
    p->prim.execute(stream(), {{DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_SRC, diffSrc}});
    stream().wait();
    return undefined(env);
  });
}

/**
 * x[:, ::sh, ::sw, :] of a strided 1x1 convolution without padding: the cells it reads, so that
 * its filter gradient is a stride-1 one. oneDNN 2.6.3's jit_1x1 avx512 backward-weights kernel
 * writes out of bounds on strided 1x1 convolutions (heap corruption within a few hundred random
 * shapes here; none with stride 1 or capped to AVX2), so resdet never hands it a stride.
 */
std::vector<float> subsample(const float *x, const Geometry &g) {
  std::vector<float> out(static_cast<size_t>(g.n * g.oh * g.ow * g.c));
  for (int64_t b = 0; b < g.n; b++) {
    for (int64_t y = 0; y < g.oh; y++) {
      for (int64_t xx = 0; xx < g.ow; xx++) {
        const float *src = x + ((b * g.h + y * g.sh) * g.w + xx * g.sw) * g.c;
        std::memcpy(out.data() + ((b * g.oh + y) * g.ow + xx) * g.c, src, static_cast<size_t>(g.c) * sizeof(float));
      }
    }
  }
  return out;
}

/** conv2dBackpropFilter(x, dy, dw, geometry): dw (HWIO) = the filter gradient. */
napi_value conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 4);
    F32 x = f32(env, a[0], "x"), dy = f32(env, a[1], "dy"), dw = f32(env, a[2], "dw");
    Geometry g(i32(env, a[3], "geometry"));
    need(x, g.srcCount(), "x");
    need(dy, g.dstCount(), "dy");
    need(dw, g.weightCount(), "dw");
    std::vector<float> sub;
    if (g.kh == 1 && g.kw == 1 && (g.sh > 1 || g.sw > 1)) {
      if (g.pt || g.pl || g.pb || g.pr) throw dnnl::error(dnnl_unimplemented, "strided 1x1 filter gradient with padding");
      sub = subsample(x.data, g);
      x.data = sub.data();
      g.h = g.oh;
      g.w = g.ow;
      g.sh = g.sw = 1;
    }
    std::string ck = key("bwd_weights", g.all());
    BwdWeights *p = bwdWeightsCache.find(ck);
    if (!p) {
      dnnl::convolution_forward::primitive_desc hint(forwardDesc(g, false), engine());
      dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, g.src(), g.anyWeights(), g.dst(), g.strides(), g.dilates(), g.padL(), g.padR());
      dnnl::convolution_backward_weights::primitive_desc pd(d, engine(), hint);
      p = &bwdWeightsCache.insert(ck, BwdWeights{pd, dnnl::convolution_backward_weights(pd)});
    }
    auto &eng = engine();
    dnnl::memory src(g.src(), eng, x.data), diffDst(g.dst(), eng, dy.data);
    dnnl::memory user(g.userWeights(), eng, dw.data);
    bool direct = p->pd.diff_weights_desc() == g.userWeights();
    dnnl::memory diffWeights = direct ? user : dnnl::memory(p->pd.diff_weights_desc(), eng);
    p->prim.execute(stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, diffWeights}});
    if (!direct) dnnl::reorder(diffWeights, user).execute(stream(), diffWeights, user);
    stream().wait();
    return undefined(env);
  });
}

}  // namespace

void registerConv(napi_env env, napi_value exports) {
  define(env, exports, "conv2d", conv2d);
  define(env, exports, "conv2dBackpropInput", conv2dBackpropInput);
  define(env, exports, "conv2dBackpropFilter", conv2dBackpropFilter);
}

}  // namespace resdet
