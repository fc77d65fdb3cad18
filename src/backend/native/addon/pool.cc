// 2-D pooling, NHWC: max and average forward on oneDNN, average backward on oneDNN, max backward
// as a loop with tfjs's tie rule (the first maximum in row-major window order takes the gradient;
// oneDNN's max backward would need the forward's workspace, which tfjs's MaxPoolGrad does not have).
// Average pooling divides by the cells inside the input going forward, but tfjs's AvgPoolGrad
// (every backend's) divides by the whole window: the backward here does the same, so gradients
// agree with the other backends.
#include "common.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <climits>
#include <limits>

namespace resdet {
namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

/** [N, H, W, C, FH, FW, OH, OW, sh, sw, pt, pl, pb, pr] */
struct PoolGeometry {
  int64_t n, h, w, c, fh, fw, oh, ow, sh, sw, pt, pl, pb, pr;
  explicit PoolGeometry(const I32 &p) {
    if (p.length != 14) throw ArgError("pool geometry: expected 14 integers");
    int64_t *f[] = {&n, &h, &w, &c, &fh, &fw, &oh, &ow, &sh, &sw, &pt, &pl, &pb, &pr};
    for (size_t i = 0; i < 14; i++) *f[i] = p.data[i];
    for (size_t i = 0; i < 10; i++) {
      if (*f[i] < 1) throw ArgError("pool geometry: sizes and strides must be >= 1");
    }
    for (size_t i = 10; i < 14; i++) {
      if (*f[i] < 0) throw ArgError("pool geometry: padding must be >= 0");
    }
  }
  std::vector<int64_t> all() const { return {n, h, w, c, fh, fw, oh, ow, sh, sw, pt, pl, pb, pr}; }
  dnnl::memory::desc src() const { return {{n, c, h, w}, dt::f32, tag::nhwc}; }
  dnnl::memory::desc dst() const { return {{n, c, oh, ow}, dt::f32, tag::nhwc}; }
  size_t srcCount() const { return static_cast<size_t>(n * h * w * c); }
  size_t dstCount() const { return static_cast<size_t>(n * oh * ow * c); }
  /** oneDNN derives the output size from the padding: refuse geometry where it disagrees. */
  void checkDnnl() const {
    auto out = [](int64_t in, int64_t k, int64_t s, int64_t lo, int64_t hi) { return (in + lo + hi - k) / s + 1; };
    if (out(h, fh, sh, pt, pb) != oh || out(w, fw, sw, pl, pr) != ow) {
      throw dnnl::error(dnnl_unimplemented, "output size does not follow from the padding");
    }
  }
};

struct Fwd {
  dnnl::pooling_forward::primitive_desc pd;
  dnnl::pooling_forward prim;
};
struct Bwd {
  dnnl::pooling_backward::primitive_desc pd;
  dnnl::pooling_backward prim;
};
thread_local LruCache<Fwd> fwdCache(128);
thread_local LruCache<Bwd> bwdCache(128);

dnnl::pooling_forward::desc forwardDesc(const PoolGeometry &g, dnnl::algorithm alg, dnnl::prop_kind prop) {
  return {prop, alg, g.src(), g.dst(), {g.sh, g.sw}, {g.fh, g.fw}, {g.pt, g.pl}, {g.pb, g.pr}};
}

/** pool(x, out, geometry, isMax): max pooling (padding ignored) or average over the cells inside the input. */
napi_value pool(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 4);
    F32 x = f32(env, a[0], "x"), out = f32(env, a[1], "out");
    PoolGeometry g(i32(env, a[2], "geometry"));
    bool isMax = number(env, a[3], "isMax") != 0;
    need(x, g.srcCount(), "x");
    need(out, g.dstCount(), "out");
    g.checkDnnl();
    auto k = g.all();
    k.push_back(isMax);
    std::string ck = key("pool", k);
    Fwd *p = fwdCache.find(ck);
    if (!p) {
      auto alg = isMax ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding;
      dnnl::pooling_forward::primitive_desc pd(forwardDesc(g, alg, dnnl::prop_kind::forward_inference), engine());
      p = &fwdCache.insert(ck, Fwd{pd, dnnl::pooling_forward(pd)});
    }
    auto &eng = engine();
    p->prim.execute(stream(), {{DNNL_ARG_SRC, dnnl::memory(g.src(), eng, x.data)}, {DNNL_ARG_DST, dnnl::memory(g.dst(), eng, out.data)}});
    stream().wait();
    return undefined(env);
  });
}

/** avgPoolGrad(dy, dx, geometry) */
napi_value avgPoolGrad(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 3);
    F32 dy = f32(env, a[0], "dy"), dx = f32(env, a[1], "dx");
    PoolGeometry g(i32(env, a[2], "geometry"));
    need(dy, g.dstCount(), "dy");
    need(dx, g.srcCount(), "dx");
    g.checkDnnl();
    std::string ck = key("avg_bwd", g.all());
    Bwd *p = bwdCache.find(ck);
    if (!p) {
      auto alg = dnnl::algorithm::pooling_avg_include_padding;  // tfjs: dy / (fh * fw)
      dnnl::pooling_forward::primitive_desc hint(forwardDesc(g, alg, dnnl::prop_kind::forward_training), engine());
      dnnl::pooling_backward::desc d(alg, g.src(), g.dst(), {g.sh, g.sw}, {g.fh, g.fw}, {g.pt, g.pl}, {g.pb, g.pr});
      dnnl::pooling_backward::primitive_desc pd(d, engine(), hint);
      p = &bwdCache.insert(ck, Bwd{pd, dnnl::pooling_backward(pd)});
    }
    auto &eng = engine();
    p->prim.execute(stream(), {{DNNL_ARG_DIFF_DST, dnnl::memory(g.dst(), eng, dy.data)}, {DNNL_ARG_DIFF_SRC, dnnl::memory(g.src(), eng, dx.data)}});
    stream().wait();
    return undefined(env);
  });
}

/**
 * maxPoolGrad(dy, x, dx, geometry): each output's gradient goes to the first maximum of its
 * window (rows, then columns, ascending; strict >), as tfjs-backend-cpu's maxPoolPositions.
 * Threads split (image, channel block) pairs, so no two threads write the same dx cell.
 */
napi_value maxPoolGrad(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 4);
    F32 dy = f32(env, a[0], "dy"), x = f32(env, a[1], "x"), dx = f32(env, a[2], "dx");
    PoolGeometry g(i32(env, a[3], "geometry"));
    need(dy, g.dstCount(), "dy");
    need(x, g.srcCount(), "x");
    need(dx, g.srcCount(), "dx");
    std::memset(dx.data, 0, g.srcCount() * sizeof(float));
    // Blocks of 64 channels: the inner loops run branch-free over contiguous channels (the
    // compiler vectorises them); positions are int32 offsets within one image.
    constexpr int64_t B = 64;
    if (g.h * g.w * g.c > INT32_MAX) throw ArgError("maxPoolGrad: one image above 2^31 elements");
    const int64_t blocks = (g.c + B - 1) / B;
    const int64_t tasks = g.n * blocks;
    const float *xs = x.data, *dys = dy.data;
    float *dxs = dx.data;
#pragma omp parallel for num_threads(threads()) schedule(static)
    for (int64_t t = 0; t < tasks; t++) {
      const int64_t b = t / blocks, c0 = (t % blocks) * B, cn = std::min(B, g.c - c0);
      const float *xb = xs + b * g.h * g.w * g.c;
      float *dxb = dxs + b * g.h * g.w * g.c;
      float best[B];
      int32_t pos[B];
      for (int64_t oy = 0; oy < g.oh; oy++) {
        const int64_t y0 = oy * g.sh - g.pt;
        const int64_t ys = std::max<int64_t>(y0, 0), ye = std::min<int64_t>(y0 + g.fh, g.h);
        for (int64_t ox = 0; ox < g.ow; ox++) {
          const int64_t x0 = ox * g.sw - g.pl;
          const int64_t xs0 = std::max<int64_t>(x0, 0), xe = std::min<int64_t>(x0 + g.fw, g.w);
          for (int64_t q = 0; q < cn; q++) {
            best[q] = -std::numeric_limits<float>::infinity();
            pos[q] = -1;
          }
          for (int64_t yy = ys; yy < ye; yy++) {
            for (int64_t xx = xs0; xx < xe; xx++) {
              const int32_t cell = static_cast<int32_t>((yy * g.w + xx) * g.c + c0);
              const float *v = xb + cell;
              for (int64_t q = 0; q < cn; q++) {
                const bool gt = v[q] > best[q];  // strict: the first maximum keeps the gradient
                best[q] = gt ? v[q] : best[q];
                pos[q] = gt ? cell + static_cast<int32_t>(q) : pos[q];
              }
            }
          }
          const float *g0 = dys + ((b * g.oh + oy) * g.ow + ox) * g.c + c0;
          for (int64_t q = 0; q < cn; q++) {
            if (pos[q] >= 0) dxb[pos[q]] += g0[q];
          }
        }
      }
    }
    return undefined(env);
  });
}

}  // namespace

void registerPool(napi_env env, napi_value exports) {
  define(env, exports, "pool", pool);
  define(env, exports, "avgPoolGrad", avgPoolGrad);
  define(env, exports, "maxPoolGrad", maxPoolGrad);
}

}  // namespace resdet
