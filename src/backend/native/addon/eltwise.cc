// Elementwise and reduction kernels that a training step spends memory bandwidth in: binary ops
// with numpy broadcasting, unary ops, reductions over one contiguous block of axes, and the
// batch-norm affine map (tfjs FusedBatchNorm). Plain loops over both cores (OpenMP); sums
// accumulate in double over a fixed split of the data, so results do not depend on the thread
// count (exact resume stays bitwise).
#include "common.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace resdet {
namespace {

constexpr int kMaxRank = 8;

/** Loop nest of a broadcast binary op: out dims and the two inputs' strides (0 = broadcast). */
struct Broadcast {
  int rank = 0;
  int64_t dims[kMaxRank];
  int64_t sa[kMaxRank];
  int64_t sb[kMaxRank];
};

std::vector<int64_t> shapeOf(const I32 &s, const char *name) {
  if (s.length > kMaxRank) throw ArgError(std::string(name) + ": rank above 8");
  std::vector<int64_t> d(s.data, s.data + s.length);
  for (auto v : d) {
    if (v < 0) throw ArgError(std::string(name) + ": negative dimension");
  }
  return d;
}

/** numpy broadcasting of a and b to out, with adjacent dims of the same pattern merged. */
Broadcast broadcast(std::vector<int64_t> a, std::vector<int64_t> b, const std::vector<int64_t> &out) {
  const size_t r = out.size();
  if (a.size() > r || b.size() > r) throw ArgError("broadcast: input rank above output rank");
  a.insert(a.begin(), r - a.size(), 1);
  b.insert(b.begin(), r - b.size(), 1);
  std::vector<int64_t> sa(r), sb(r);
  int64_t ka = 1, kb = 1;
  for (size_t i = r; i-- > 0;) {
    if ((a[i] != out[i] && a[i] != 1) || (b[i] != out[i] && b[i] != 1)) throw ArgError("broadcast: shapes do not broadcast to the output");
    sa[i] = a[i] == 1 && out[i] != 1 ? 0 : ka;
    sb[i] = b[i] == 1 && out[i] != 1 ? 0 : kb;
    ka *= a[i];
    kb *= b[i];
  }
  Broadcast bc;
  // Merge dim i into the previous kept one when both inputs step contiguously across them.
  for (size_t i = 0; i < r; i++) {
    if (out[i] == 1) continue;
    if (bc.rank > 0) {
      int j = bc.rank - 1;
      if (sa[i] * out[i] == sa[j] && sb[i] * out[i] == sb[j]) {
        bc.dims[j] *= out[i];
        bc.sa[j] = sa[i];
        bc.sb[j] = sb[i];
        continue;
      }
    }
    bc.dims[bc.rank] = out[i];
    bc.sa[bc.rank] = sa[i];
    bc.sb[bc.rank] = sb[i];
    bc.rank++;
  }
  if (bc.rank == 0) {
    bc.rank = 1;
    bc.dims[0] = 1;
    bc.sa[0] = bc.sb[0] = 1;
  }
  return bc;
}

enum Binary { ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, SQDIFF };

template <int OP>
inline float apply(float x, float y) {
  if (OP == ADD) return x + y;
  if (OP == SUB) return x - y;
  if (OP == MUL) return x * y;
  if (OP == DIV) return x / y;
  if (OP == MAXIMUM) return (std::isnan(x) || std::isnan(y)) ? std::numeric_limits<float>::quiet_NaN() : (x > y ? x : y);
  if (OP == MINIMUM) return (std::isnan(x) || std::isnan(y)) ? std::numeric_limits<float>::quiet_NaN() : (x < y ? x : y);
  float d = x - y;
  return d * d;
}

template <int OP>
void binaryLoop(const float *a, const float *b, float *out, const Broadcast &bc) {
  const int last = bc.rank - 1;
  const int64_t inner = bc.dims[last], ia = bc.sa[last], ib = bc.sb[last];
  int64_t rows = 1;
  for (int i = 0; i < last; i++) rows *= bc.dims[i];
  const int nt = rows * inner > 32768 ? threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t row = 0; row < rows; row++) {
    int64_t oa = 0, ob = 0, rest = row;
    for (int i = last - 1; i >= 0; i--) {
      int64_t idx = rest % bc.dims[i];
      rest /= bc.dims[i];
      oa += idx * bc.sa[i];
      ob += idx * bc.sb[i];
    }
    float *o = out + row * inner;
    const float *pa = a + oa, *pb = b + ob;
    if (ia == 1 && ib == 1) {
      for (int64_t k = 0; k < inner; k++) o[k] = apply<OP>(pa[k], pb[k]);
    } else if (ia == 1 && ib == 0) {
      const float y = pb[0];
      for (int64_t k = 0; k < inner; k++) o[k] = apply<OP>(pa[k], y);
    } else if (ia == 0 && ib == 1) {
      const float x = pa[0];
      for (int64_t k = 0; k < inner; k++) o[k] = apply<OP>(x, pb[k]);
    } else {
      for (int64_t k = 0; k < inner; k++) o[k] = apply<OP>(pa[k * ia], pb[k * ib]);
    }
  }
}

/** binary(op, a, aShape, b, bShape, out, outShape) */
napi_value binary(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 7);
    int op = static_cast<int>(number(env, a[0], "op"));
    F32 x = f32(env, a[1], "a"), y = f32(env, a[3], "b"), out = f32(env, a[5], "out");
    auto xs = shapeOf(i32(env, a[2], "aShape"), "aShape"), ys = shapeOf(i32(env, a[4], "bShape"), "bShape");
    auto os = shapeOf(i32(env, a[6], "outShape"), "outShape");
    need(x, count(xs), "a");
    need(y, count(ys), "b");
    need(out, count(os), "out");
    if (count(os) == 0) return undefined(env);
    Broadcast bc = broadcast(xs, ys, os);
    switch (op) {
      case ADD: binaryLoop<ADD>(x.data, y.data, out.data, bc); break;
      case SUB: binaryLoop<SUB>(x.data, y.data, out.data, bc); break;
      case MUL: binaryLoop<MUL>(x.data, y.data, out.data, bc); break;
      case DIV: binaryLoop<DIV>(x.data, y.data, out.data, bc); break;
      case MAXIMUM: binaryLoop<MAXIMUM>(x.data, y.data, out.data, bc); break;
      case MINIMUM: binaryLoop<MINIMUM>(x.data, y.data, out.data, bc); break;
      case SQDIFF: binaryLoop<SQDIFF>(x.data, y.data, out.data, bc); break;
      default: throw ArgError("binary: unknown op " + std::to_string(op));
    }
    return undefined(env);
  });
}

enum Unary { RELU, STEP, NEG, EXP, LOG, SQRT, RSQRT, SQUARE, ABS, SIGMOID, RELU6 };

template <int OP>
void unaryLoop(const float *x, float *out, int64_t n, float alpha) {
  const int nt = n > 32768 ? threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    float r;
    if (OP == RELU) r = v < 0 ? 0.f : v;  // NaN stays NaN, as tfjs
    else if (OP == STEP) r = std::isnan(v) ? v : (v > 0 ? 1.f : alpha);
    else if (OP == NEG) r = -v;
    else if (OP == EXP) r = std::exp(v);
    else if (OP == LOG) r = std::log(v);
    else if (OP == SQRT) r = std::sqrt(v);
    else if (OP == RSQRT) r = 1.f / std::sqrt(v);
    else if (OP == SQUARE) r = v * v;
    else if (OP == ABS) r = std::fabs(v);
    else if (OP == SIGMOID) r = 1.f / (1.f + std::exp(-v));
    else r = v < 0 ? 0.f : (v > 6 ? 6.f : v);
    out[i] = r;
  }
}

/** unary(op, x, out, alpha) */
napi_value unary(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 4);
    int op = static_cast<int>(number(env, a[0], "op"));
    F32 x = f32(env, a[1], "x"), out = f32(env, a[2], "out");
    float alpha = static_cast<float>(number(env, a[3], "alpha"));
    need(out, x.length, "out");
    const int64_t n = static_cast<int64_t>(x.length);
    switch (op) {
      case RELU: unaryLoop<RELU>(x.data, out.data, n, alpha); break;
      case STEP: unaryLoop<STEP>(x.data, out.data, n, alpha); break;
      case NEG: unaryLoop<NEG>(x.data, out.data, n, alpha); break;
      case EXP: unaryLoop<EXP>(x.data, out.data, n, alpha); break;
      case LOG: unaryLoop<LOG>(x.data, out.data, n, alpha); break;
      case SQRT: unaryLoop<SQRT>(x.data, out.data, n, alpha); break;
      case RSQRT: unaryLoop<RSQRT>(x.data, out.data, n, alpha); break;
      case SQUARE: unaryLoop<SQUARE>(x.data, out.data, n, alpha); break;
      case ABS: unaryLoop<ABS>(x.data, out.data, n, alpha); break;
      case SIGMOID: unaryLoop<SIGMOID>(x.data, out.data, n, alpha); break;
      case RELU6: unaryLoop<RELU6>(x.data, out.data, n, alpha); break;
      default: throw ArgError("unary: unknown op " + std::to_string(op));
    }
    return undefined(env);
  });
}

enum Reduce { SUM, MEAN, MAX, MIN };

/**
 * reduce(op, x, out, outer, r, inner): out[o, i] = op over k of x[o, k, i] ([outer, r, inner]
 * row-major: the reduced axes are one contiguous block). When outer is small and r large (batch
 * norm's sums over N*H*W), r is cut into a fixed number of chunks whose partials are combined in
 * order: the same bits whatever the thread count.
 */
napi_value reduce(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 6);
    int op = static_cast<int>(number(env, a[0], "op"));
    F32 x = f32(env, a[1], "x"), out = f32(env, a[2], "out");
    int64_t outer = static_cast<int64_t>(number(env, a[3], "outer")), r = static_cast<int64_t>(number(env, a[4], "r")),
            inner = static_cast<int64_t>(number(env, a[5], "inner"));
    if (outer < 1 || r < 1 || inner < 1) throw ArgError("reduce: sizes must be >= 1");
    if (op < SUM || op > MIN) throw ArgError("reduce: unknown op " + std::to_string(op));
    need(x, static_cast<size_t>(outer * r * inner), "x");
    need(out, static_cast<size_t>(outer * inner), "out");
    const float *xs = x.data;
    const int64_t chunks = (outer < 4 && r >= 256) ? 64 : 1;
    const int64_t span = (r + chunks - 1) / chunks;
    std::vector<double> part(static_cast<size_t>(outer * chunks * inner));
    const int nt = outer * r * inner > 32768 ? threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t t = 0; t < outer * chunks; t++) {
      const int64_t o = t / chunks, ch = t % chunks;
      const int64_t k0 = ch * span, k1 = std::min(r, k0 + span);
      double *acc = part.data() + t * inner;
      const double init = op == MAX ? -std::numeric_limits<double>::infinity() : op == MIN ? std::numeric_limits<double>::infinity() : 0.0;
      std::fill(acc, acc + inner, init);
      for (int64_t k = k0; k < k1; k++) {
        const float *row = xs + (o * r + k) * inner;
        if (op == SUM || op == MEAN) {
          for (int64_t i = 0; i < inner; i++) acc[i] += row[i];
        } else if (op == MAX) {
          for (int64_t i = 0; i < inner; i++) acc[i] = (row[i] > acc[i] || std::isnan(row[i])) ? row[i] : acc[i];
        } else {
          for (int64_t i = 0; i < inner; i++) acc[i] = (row[i] < acc[i] || std::isnan(row[i])) ? row[i] : acc[i];
        }
      }
    }
    for (int64_t o = 0; o < outer; o++) {
      for (int64_t i = 0; i < inner; i++) {
        double v = part[static_cast<size_t>((o * chunks) * inner + i)];
        for (int64_t ch = 1; ch < chunks; ch++) {
          double p = part[static_cast<size_t>((o * chunks + ch) * inner + i)];
          if (op == SUM || op == MEAN) v += p;
          else if (op == MAX) v = (p > v || std::isnan(p)) ? p : v;
          else v = (p < v || std::isnan(p)) ? p : v;
        }
        out.data[o * inner + i] = static_cast<float>(op == MEAN ? v / static_cast<double>(r) : v);
      }
    }
    return undefined(env);
  });
}

/**
 * batchNorm(x, mean, variance, offset|null, scale|null, out, channels, eps): the affine map of
 * tfjs FusedBatchNorm, each parameter either per channel (last axis) or one value.
 */
napi_value batchNorm(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 8);
    F32 x = f32(env, a[0], "x"), mean = f32(env, a[1], "mean"), var = f32(env, a[2], "variance");
    F32 offset = f32(env, a[3], "offset", true), scale = f32(env, a[4], "scale", true), out = f32(env, a[5], "out");
    int64_t c = static_cast<int64_t>(number(env, a[6], "channels"));
    float eps = static_cast<float>(number(env, a[7], "eps"));
    if (c < 1 || x.length % static_cast<size_t>(c) != 0) throw ArgError("batchNorm: x is not a whole number of channel rows");
    need(out, x.length, "out");
    auto ok = [&](const F32 &p, const char *name) {
      if (p.data && p.length != 1 && p.length != static_cast<size_t>(c)) throw ArgError(std::string(name) + ": expected 1 or channels values");
    };
    ok(mean, "mean");
    ok(var, "variance");
    ok(offset, "offset");
    ok(scale, "scale");
    std::vector<float> k(static_cast<size_t>(c)), m(static_cast<size_t>(c)), b(static_cast<size_t>(c));
    for (int64_t i = 0; i < c; i++) {
      auto at = [&](const F32 &p, float dflt) { return p.data ? p.data[p.length == 1 ? 0 : i] : dflt; };
      k[i] = at(scale, 1.f) / std::sqrt(at(var, 0.f) + eps);
      m[i] = at(mean, 0.f);
      b[i] = at(offset, 0.f);
    }
    const int64_t rows = static_cast<int64_t>(x.length) / c;
    const int nt = static_cast<int64_t>(x.length) > 32768 ? threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t row = 0; row < rows; row++) {
      const float *xi = x.data + row * c;
      float *o = out.data + row * c;
      for (int64_t i = 0; i < c; i++) o[i] = (xi[i] - m[i]) * k[i] + b[i];
    }
    return undefined(env);
  });
}

}  // namespace

void registerEltwise(napi_env env, napi_value exports) {
  define(env, exports, "binary", binary);
  define(env, exports, "unary", unary);
  define(env, exports, "reduce", reduce);
  define(env, exports, "batchNorm", batchNorm);
}

}  // namespace resdet
