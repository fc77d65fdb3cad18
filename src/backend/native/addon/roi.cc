// RoI feature extraction for Faster R-CNN's RoI heads, NHWC, float32:
// - RoIPool (Caffe's ROIPoolingLayer): each bin takes the max of its cells and records the
//   argmax; the backward sends each output's gradient to its argmax cell.
// - RoIAlign as a sparse bilinear map: a list of (output row, feature row, weight) triples that
//   JS computes from the boxes (detectors/roi-align.ts); out[o] += w * f[s] over C-contiguous rows,
//   and the transpose for the gradient.
// Forward passes split the RoIs between threads (their outputs are disjoint); backward passes
// split the channels (RoIs overlap in the feature map, channels never do), so every sum is taken
// in one fixed order: the same bits whatever the thread count.
#include "common.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace resdet {
namespace {

constexpr int64_t kBlock = 64;

/** roiPoolForward(features, [N, H, W, C], rows, cols, batch, P, out, argmax) */
napi_value roiPoolForward(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 8);
    F32 f = f32(env, a[0], "features"), out = f32(env, a[6], "out");
    I32 shape = i32(env, a[1], "shape"), rows = i32(env, a[2], "rows"), cols = i32(env, a[3], "cols"), batch = i32(env, a[4], "batch"), argmax = i32(env, a[7], "argmax");
    const int64_t p = static_cast<int64_t>(number(env, a[5], "outputSize"));
    if (shape.length != 4) throw ArgError("roiPool: shape must be [N, H, W, C]");
    const int64_t n = shape.data[0], h = shape.data[1], w = shape.data[2], c = shape.data[3];
    const int64_t r = static_cast<int64_t>(batch.length);
    if (n < 1 || h < 1 || w < 1 || c < 1 || p < 1) throw ArgError("roiPool: sizes must be >= 1");
    if (n * h * w * c > std::numeric_limits<int32_t>::max()) throw ArgError("roiPool: feature map above 2^31 elements");
    need(f, static_cast<size_t>(n * h * w * c), "features");
    need(out, static_cast<size_t>(r * p * p * c), "out");
    if (argmax.length < static_cast<size_t>(r * p * p * c)) throw ArgError("roiPool: argmax too short");
    if (rows.length != static_cast<size_t>(r * 2 * p) || cols.length != static_cast<size_t>(r * 2 * p)) throw ArgError("roiPool: rows/cols must hold 2P ranges per RoI");
    for (int64_t k = 0; k < r; k++) {
      if (batch.data[k] < 0 || batch.data[k] >= n) throw ArgError("roiPool: batch index out of range");
      for (int64_t i = 0; i < 2 * p; i++) {
        const int32_t y = rows.data[k * 2 * p + i], x = cols.data[k * 2 * p + i];
        if (y < 0 || y > h || x < 0 || x > w) throw ArgError("roiPool: bin range outside the feature map");
      }
    }
    const float *fs = f.data;
    float *os = out.data;
    int32_t *am = argmax.data;
#pragma omp parallel for num_threads(threads()) schedule(dynamic, 1)
    for (int64_t k = 0; k < r; k++) {
      const int64_t base = batch.data[k] * h;
      const int32_t *ry = rows.data + k * 2 * p, *rx = cols.data + k * 2 * p;
      for (int64_t i = 0; i < p; i++) {
        for (int64_t j = 0; j < p; j++) {
          const int64_t o = ((k * p + i) * p + j) * c;
          const int32_t ys = ry[2 * i], ye = ry[2 * i + 1], xs = rx[2 * j], xe = rx[2 * j + 1];
          if (ye <= ys || xe <= xs) {  // empty bin: 0, no gradient
            std::fill(os + o, os + o + c, 0.f);
            std::fill(am + o, am + o + c, -1);
            continue;
          }
          std::fill(os + o, os + o + c, -std::numeric_limits<float>::infinity());
          std::fill(am + o, am + o + c, -1);
          for (int32_t y = ys; y < ye; y++) {
            for (int32_t x = xs; x < xe; x++) {
              const int32_t src = static_cast<int32_t>(((base + y) * w + x) * c);
              const float *v = fs + src;
              for (int64_t q = 0; q < c; q++) {
                const bool gt = v[q] > os[o + q];  // strict: the first maximum in row-major order
                os[o + q] = gt ? v[q] : os[o + q];
                am[o + q] = gt ? src + static_cast<int32_t>(q) : am[o + q];
              }
            }
          }
        }
      }
    }
    return undefined(env);
  });
}

/** roiPoolBackward(dy, argmax, channels, dx): dx (zeroed here) += dy at each output's argmax. */
napi_value roiPoolBackward(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 4);
    F32 dy = f32(env, a[0], "dy"), dx = f32(env, a[3], "dx");
    I32 argmax = i32(env, a[1], "argmax");
    const int64_t c = static_cast<int64_t>(number(env, a[2], "channels"));
    if (c < 1 || argmax.length % static_cast<size_t>(c) != 0) throw ArgError("roiPoolBackward: argmax is not whole rows of channels");
    need(dy, argmax.length, "dy");
    const int64_t outs = static_cast<int64_t>(argmax.length) / c;
    for (size_t i = 0; i < argmax.length; i++) {
      if (argmax.data[i] >= static_cast<int64_t>(dx.length)) throw ArgError("roiPoolBackward: argmax outside dx");
    }
    std::memset(dx.data, 0, dx.length * sizeof(float));
    const int64_t blocks = (c + kBlock - 1) / kBlock;
#pragma omp parallel for num_threads(threads()) schedule(static)
    for (int64_t blk = 0; blk < blocks; blk++) {
      const int64_t q0 = blk * kBlock, q1 = std::min(c, q0 + kBlock);
      for (int64_t o = 0; o < outs; o++) {
        for (int64_t q = q0; q < q1; q++) {
          const int32_t at = argmax.data[o * c + q];
          if (at >= 0) dx.data[at] += dy.data[o * c + q];
        }
      }
    }
    return undefined(env);
  });
}

/** Checks the triples (output row, feature row, weight) against the row counts. */
void checkTriples(const I32 &outRow, const I32 &srcRow, const F32 &weight, int64_t outRows, int64_t srcRows) {
  if (srcRow.length != outRow.length || weight.length != outRow.length) throw ArgError("sparse map: triples of unequal length");
  for (size_t t = 0; t < outRow.length; t++) {
    if (outRow.data[t] < 0 || outRow.data[t] >= outRows || srcRow.data[t] < 0 || srcRow.data[t] >= srcRows) throw ArgError("sparse map: a row index is out of range");
  }
}

/**
 * sparseGather(f, channels, outRow, srcRow, weight, starts, out): out (zeroed here, [outRows, C])
 * += weight * f[srcRow] per triple; triples starts[k]..starts[k+1] write only RoI k's rows.
 */
napi_value sparseGather(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 7);
    F32 f = f32(env, a[0], "features"), weight = f32(env, a[4], "weight"), out = f32(env, a[6], "out");
    const int64_t c = static_cast<int64_t>(number(env, a[1], "channels"));
    I32 outRow = i32(env, a[2], "outRow"), srcRow = i32(env, a[3], "srcRow"), starts = i32(env, a[5], "starts");
    if (c < 1 || f.length % static_cast<size_t>(c) != 0 || out.length % static_cast<size_t>(c) != 0) throw ArgError("sparseGather: arrays are not whole rows of channels");
    checkTriples(outRow, srcRow, weight, static_cast<int64_t>(out.length) / c, static_cast<int64_t>(f.length) / c);
    if (starts.length < 1 || starts.data[0] != 0 || starts.data[starts.length - 1] != static_cast<int32_t>(outRow.length)) throw ArgError("sparseGather: starts must run from 0 to the triple count");
    for (size_t k = 1; k < starts.length; k++) {
      if (starts.data[k] < starts.data[k - 1]) throw ArgError("sparseGather: starts must not decrease");
    }
    std::memset(out.data, 0, out.length * sizeof(float));
    const int64_t groups = static_cast<int64_t>(starts.length) - 1;
#pragma omp parallel for num_threads(threads()) schedule(dynamic, 1)
    for (int64_t k = 0; k < groups; k++) {
      for (int32_t t = starts.data[k]; t < starts.data[k + 1]; t++) {
        float *o = out.data + static_cast<int64_t>(outRow.data[t]) * c;
        const float *s = f.data + static_cast<int64_t>(srcRow.data[t]) * c;
        const float wt = weight.data[t];
        for (int64_t q = 0; q < c; q++) o[q] += wt * s[q];
      }
    }
    return undefined(env);
  });
}

/** sparseScatter(dy, channels, outRow, srcRow, weight, dx): dx (zeroed here) += weight * dy[outRow] at srcRow. */
napi_value sparseScatter(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 6);
    F32 dy = f32(env, a[0], "dy"), weight = f32(env, a[4], "weight"), dx = f32(env, a[5], "dx");
    const int64_t c = static_cast<int64_t>(number(env, a[1], "channels"));
    I32 outRow = i32(env, a[2], "outRow"), srcRow = i32(env, a[3], "srcRow");
    if (c < 1 || dy.length % static_cast<size_t>(c) != 0 || dx.length % static_cast<size_t>(c) != 0) throw ArgError("sparseScatter: arrays are not whole rows of channels");
    checkTriples(outRow, srcRow, weight, static_cast<int64_t>(dy.length) / c, static_cast<int64_t>(dx.length) / c);
    std::memset(dx.data, 0, dx.length * sizeof(float));
    const int64_t blocks = (c + kBlock - 1) / kBlock;
    const int64_t triples = static_cast<int64_t>(outRow.length);
#pragma omp parallel for num_threads(threads()) schedule(static)
    for (int64_t blk = 0; blk < blocks; blk++) {
      const int64_t q0 = blk * kBlock, q1 = std::min(c, q0 + kBlock);
      for (int64_t t = 0; t < triples; t++) {
        float *d = dx.data + static_cast<int64_t>(srcRow.data[t]) * c;
        const float *g = dy.data + static_cast<int64_t>(outRow.data[t]) * c;
        const float wt = weight.data[t];
        for (int64_t q = q0; q < q1; q++) d[q] += wt * g[q];
      }
    }
    return undefined(env);
  });
}

}  // namespace

void registerRoi(napi_env env, napi_value exports) {
  define(env, exports, "roiPoolForward", roiPoolForward);
  define(env, exports, "roiPoolBackward", roiPoolBackward);
  define(env, exports, "sparseGather", sparseGather);
  define(env, exports, "sparseScatter", sparseScatter);
}

}  // namespace resdet
