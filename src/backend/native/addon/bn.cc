// Training-mode batch normalisation over every axis but the last (NHWC: over N*H*W per channel),
// forward and backward in two passes each, as PyTorch's native CPU kernel, instead of the dozen
// elementwise and reduction kernels a composite costs. Sums accumulate in double over a fixed
// split of the rows (the same bits whatever the thread count).
//
//   forward:  mean, biased var over the rows; y = (x - mean) * gamma / sqrt(var + eps) + beta
//   backward: dbeta = sum(dy), dgamma = sum(dy * xhat),
//             dx = gamma / sqrt(var + eps) * (dy - dbeta / M - xhat * dgamma / M)
#include "common.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

namespace resdet {
namespace {

constexpr int64_t kChunks = 64;

/** Per-chunk partial sums of f(row) into part[chunk][2][C], then combined in chunk order. */
template <typename F>
void channelSums(int64_t rows, int64_t c, std::vector<double> &s0, std::vector<double> &s1, F f) {
  const int64_t chunks = rows >= kChunks ? kChunks : 1;
  const int64_t span = (rows + chunks - 1) / chunks;
  std::vector<double> part(static_cast<size_t>(chunks * 2 * c), 0.0);
  const int nt = rows * c > 32768 ? threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t ch = 0; ch < chunks; ch++) {
    double *a = part.data() + ch * 2 * c;
    double *b = a + c;
    const int64_t r1 = std::min(rows, (ch + 1) * span);
    for (int64_t r = ch * span; r < r1; r++) f(r, a, b);
  }
  s0.assign(static_cast<size_t>(c), 0.0);
  s1.assign(static_cast<size_t>(c), 0.0);
  for (int64_t ch = 0; ch < chunks; ch++) {
    for (int64_t i = 0; i < c; i++) {
      s0[i] += part[static_cast<size_t>(ch * 2 * c + i)];
      s1[i] += part[static_cast<size_t>(ch * 2 * c + c + i)];
    }
  }
}

/** bnTrainForward(x, gamma, beta, y, mean, variance, channels, eps) */
napi_value forward(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 8);
    F32 x = f32(env, a[0], "x"), gamma = f32(env, a[1], "gamma"), beta = f32(env, a[2], "beta");
    F32 y = f32(env, a[3], "y"), mean = f32(env, a[4], "mean"), var = f32(env, a[5], "variance");
    const int64_t c = static_cast<int64_t>(number(env, a[6], "channels"));
    const double eps = number(env, a[7], "eps");
    if (c < 1 || x.length == 0 || x.length % static_cast<size_t>(c) != 0) throw ArgError("bnTrainForward: x is not a whole number of channel rows");
    for (const F32 *p : {&gamma, &beta, &mean, &var}) need(*p, static_cast<size_t>(c), "per-channel parameter");
    need(y, x.length, "y");
    const int64_t rows = static_cast<int64_t>(x.length) / c;
    const float *xs = x.data;
    std::vector<double> sum, sumSq;
    channelSums(rows, c, sum, sumSq, [&](int64_t r, double *s, double *q) {
      const float *row = xs + r * c;
      for (int64_t i = 0; i < c; i++) {
        const double v = row[i];
        s[i] += v;
        q[i] += v * v;
      }
    });
    std::vector<float> k(static_cast<size_t>(c)), m(static_cast<size_t>(c)), b(static_cast<size_t>(c));
    for (int64_t i = 0; i < c; i++) {
      const double mu = sum[i] / static_cast<double>(rows);
      const double v = std::max(0.0, sumSq[i] / static_cast<double>(rows) - mu * mu);
      mean.data[i] = static_cast<float>(mu);
      var.data[i] = static_cast<float>(v);
      m[i] = static_cast<float>(mu);
      k[i] = static_cast<float>(gamma.data[i] / std::sqrt(v + eps));
      b[i] = beta.data[i];
    }
    const int nt = static_cast<int64_t>(x.length) > 32768 ? threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
      const float *xi = xs + r * c;
      float *o = y.data + r * c;
      for (int64_t i = 0; i < c; i++) o[i] = (xi[i] - m[i]) * k[i] + b[i];
    }
    return undefined(env);
  });
}

/** bnTrainBackward(dy, x, gamma, mean, variance, dx, dgamma, dbeta, channels, eps) */
napi_value backward(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 10);
    F32 dy = f32(env, a[0], "dy"), x = f32(env, a[1], "x"), gamma = f32(env, a[2], "gamma");
    F32 mean = f32(env, a[3], "mean"), var = f32(env, a[4], "variance");
    F32 dx = f32(env, a[5], "dx"), dgamma = f32(env, a[6], "dgamma"), dbeta = f32(env, a[7], "dbeta");
    const int64_t c = static_cast<int64_t>(number(env, a[8], "channels"));
    const double eps = number(env, a[9], "eps");
    if (c < 1 || x.length == 0 || x.length % static_cast<size_t>(c) != 0) throw ArgError("bnTrainBackward: x is not a whole number of channel rows");
    need(dy, x.length, "dy");
    need(dx, x.length, "dx");
    for (const F32 *p : {&gamma, &mean, &var, &dgamma, &dbeta}) need(*p, static_cast<size_t>(c), "per-channel parameter");
    const int64_t rows = static_cast<int64_t>(x.length) / c;
    const float *xs = x.data, *dys = dy.data, *ms = mean.data;
    std::vector<double> sumDy, sumDyX;
    channelSums(rows, c, sumDy, sumDyX, [&](int64_t r, double *s, double *q) {
      const float *xr = xs + r * c, *dr = dys + r * c;
      for (int64_t i = 0; i < c; i++) {
        s[i] += dr[i];
        q[i] += static_cast<double>(dr[i]) * (xr[i] - ms[i]);
      }
    });
    // dx = k * dy + u * (x - mean) + w, per channel
    std::vector<float> k(static_cast<size_t>(c)), u(static_cast<size_t>(c)), w(static_cast<size_t>(c));
    const double inv = 1.0 / static_cast<double>(rows);
    for (int64_t i = 0; i < c; i++) {
      const double invStd = 1.0 / std::sqrt(static_cast<double>(var.data[i]) + eps);
      const double ki = gamma.data[i] * invStd;
      dbeta.data[i] = static_cast<float>(sumDy[i]);
      dgamma.data[i] = static_cast<float>(sumDyX[i] * invStd);
      k[i] = static_cast<float>(ki);
      u[i] = static_cast<float>(-ki * invStd * invStd * sumDyX[i] * inv);
      w[i] = static_cast<float>(-ki * sumDy[i] * inv);
    }
    const int nt = static_cast<int64_t>(x.length) > 32768 ? threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
      const float *xr = xs + r * c, *dr = dys + r * c;
      float *o = dx.data + r * c;
      for (int64_t i = 0; i < c; i++) o[i] = k[i] * dr[i] + u[i] * (xr[i] - ms[i]) + w[i];
    }
    return undefined(env);
  });
}

}  // namespace

void registerBatchNormTrain(napi_env env, napi_value exports) {
  define(env, exports, "bnTrainForward", forward);
  define(env, exports, "bnTrainBackward", backward);
}

}  // namespace resdet
