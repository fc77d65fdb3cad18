// Region copies for Slice and PadV2 (and so for the slice-and-pad gradients of option-A
// shortcuts): a box of `count` elements per axis moves from src at srcBegin to dst at dstBegin,
// one memcpy per innermost run, rows split between threads. tfjs-backend-cpu's Slice walks rank > 4
// tensors element by element (475 ms for one option-A shortcut of a ResNet-20 batch here).
#include "common.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

namespace resdet {
namespace {

std::vector<int64_t> ints(const I32 &v) { return std::vector<int64_t>(v.data, v.data + v.length); }

/** Copies the box `count` from src (shape ss) at sb to dst (shape ds) at db. */
void copyRegion(const float *src, const std::vector<int64_t> &ss, const std::vector<int64_t> &sb, float *dst, const std::vector<int64_t> &ds,
                const std::vector<int64_t> &db, const std::vector<int64_t> &count) {
  const size_t r = ss.size();
  for (size_t i = 0; i < r; i++) {
    if (count[i] < 0 || sb[i] < 0 || db[i] < 0 || sb[i] + count[i] > ss[i] || db[i] + count[i] > ds[i]) throw ArgError("copy: region outside a tensor");
    if (count[i] == 0) return;
  }
  std::vector<int64_t> sstr(r), dstr(r);
  int64_t a = 1, b = 1;
  for (size_t i = r; i-- > 0;) {
    sstr[i] = a;
    dstr[i] = b;
    a *= ss[i];
    b *= ds[i];
  }
  // The innermost run: the last axis, extended over trailing axes copied whole on both sides.
  size_t inner = r;
  int64_t run = 1;
  while (inner > 0) {
    size_t i = inner - 1;
    run *= count[i];
    inner = i;
    if (count[i] != ss[i] || count[i] != ds[i]) break;
  }
  int64_t rows = 1;
  for (size_t i = 0; i < inner; i++) rows *= count[i];
  int64_t s0 = 0, d0 = 0;
  for (size_t i = 0; i < r; i++) {
    s0 += sb[i] * sstr[i];
    d0 += db[i] * dstr[i];
  }
  const int nt = rows * run > 65536 ? threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t row = 0; row < rows; row++) {
    int64_t so = s0, dof = d0, rest = row;
    for (size_t i = inner; i-- > 0;) {
      int64_t idx = rest % count[i];
      rest /= count[i];
      so += idx * sstr[i];
      dof += idx * dstr[i];
    }
    std::memcpy(dst + dof, src + so, static_cast<size_t>(run) * sizeof(float));
  }
}

/** slice(x, xShape, begin, out, outShape) */
napi_value slice(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 5);
    F32 x = f32(env, a[0], "x"), out = f32(env, a[3], "out");
    auto xs = ints(i32(env, a[1], "xShape")), begin = ints(i32(env, a[2], "begin")), os = ints(i32(env, a[4], "outShape"));
    if (begin.size() != xs.size() || os.size() != xs.size()) throw ArgError("slice: ranks differ");
    need(x, count(xs), "x");
    need(out, count(os), "out");
    copyRegion(x.data, xs, begin, out.data, os, std::vector<int64_t>(xs.size(), 0), os);
    return undefined(env);
  });
}

/** pad(x, xShape, before, out, outShape, value) */
napi_value pad(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 6);
    F32 x = f32(env, a[0], "x"), out = f32(env, a[3], "out");
    auto xs = ints(i32(env, a[1], "xShape")), before = ints(i32(env, a[2], "before")), os = ints(i32(env, a[4], "outShape"));
    float value = static_cast<float>(number(env, a[5], "value"));
    if (before.size() != xs.size() || os.size() != xs.size()) throw ArgError("pad: ranks differ");
    need(x, count(xs), "x");
    need(out, count(os), "out");
    std::fill(out.data, out.data + count(os), value);
    copyRegion(x.data, xs, std::vector<int64_t>(xs.size(), 0), out.data, os, before, xs);
    return undefined(env);
  });
}

}  // namespace

void registerCopy(napi_env env, napi_value exports) {
  define(env, exports, "slice", slice);
  define(env, exports, "pad", pad);
}

}  // namespace resdet
