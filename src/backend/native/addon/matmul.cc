// Batched matrix multiply on oneDNN (tfjs BatchMatMul and _FusedMatMul): out[b] = act(op(A[b]) x
// op(B[b]) + bias), op = optional transpose, read through strides (no transposed copies); a batch
// of 1 on either side broadcasts.
#include "common.h"

namespace resdet {
namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

struct Mm {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
};
thread_local LruCache<Mm> cache(256);


/** matmul(a, b, bias|null, out, [batchA, batchB, M, K, N, transA, transB], activation, alpha) */
napi_value matmul(napi_env env, napi_callback_info info) {
  return guard(env, [&]() {
    auto a = args(env, info, 7);
    F32 A = f32(env, a[0], "a"), B = f32(env, a[1], "b"), bias = f32(env, a[2], "bias", true), out = f32(env, a[3], "out");
    I32 p = i32(env, a[4], "shape");
    if (p.length != 7) throw ArgError("matmul shape: expected 7 integers");
    int64_t ba = p.data[0], bb = p.data[1], m = p.data[2], k = p.data[3], n = p.data[4];
    bool ta = p.data[5] != 0, tb = p.data[6] != 0;
    if (ba < 1 || bb < 1 || m < 1 || k < 1 || n < 1) throw ArgError("matmul shape: sizes must be >= 1");
    if (ba != bb && ba != 1 && bb != 1) throw ArgError("matmul shape: batch sizes must match or be 1");
    int act = static_cast<int>(number(env, a[5], "activation"));
    float alpha = static_cast<float>(number(env, a[6], "alpha"));
    int64_t batch = ba > bb ? ba : bb;
    need(A, static_cast<size_t>(ba * m * k), "a");
    need(B, static_cast<size_t>(bb * k * n), "b");
    need(out, static_cast<size_t>(batch * m * n), "out");
    if (bias.data) need(bias, static_cast<size_t>(n), "bias");

    dnnl::memory::desc aMd({ba, m, k}, dt::f32, ta ? dnnl::memory::dims{m * k, 1, m} : dnnl::memory::dims{m * k, k, 1});
    dnnl::memory::desc bMd({bb, k, n}, dt::f32, tb ? dnnl::memory::dims{k * n, 1, k} : dnnl::memory::dims{k * n, n, 1});
    dnnl::memory::desc cMd({batch, m, n}, dt::f32, tag::abc);
    dnnl::memory::desc biasMd({1, 1, n}, dt::f32, tag::abc);
    std::string ck = key("mm", {ba, bb, m, k, n, ta, tb, bias.data != nullptr, act, static_cast<int64_t>(alpha * 1e6)});
    Mm *prim = cache.find(ck);
    if (!prim) {
      dnnl::post_ops po;
      appendActivation(po, act, alpha);
      dnnl::primitive_attr attr;
      attr.set_post_ops(po);
      auto d = bias.data ? dnnl::matmul::desc(aMd, bMd, biasMd, cMd) : dnnl::matmul::desc(aMd, bMd, cMd);
      dnnl::matmul::primitive_desc pd(d, attr, engine());
      prim = &cache.insert(ck, Mm{pd, dnnl::matmul(pd)});
    }
    auto &eng = engine();
    std::unordered_map<int, dnnl::memory> margs{{DNNL_ARG_SRC, dnnl::memory(aMd, eng, A.data)},
                                                {DNNL_ARG_WEIGHTS, dnnl::memory(bMd, eng, B.data)},
                                                {DNNL_ARG_DST, dnnl::memory(cMd, eng, out.data)}};
    if (bias.data) margs.insert({DNNL_ARG_BIAS, dnnl::memory(biasMd, eng, bias.data)});
    prim->prim.execute(stream(), margs);
    stream().wait();
    return undefined(env);
  });
}

}  // namespace

void registerMatmul(napi_env env, napi_value exports) { define(env, exports, "matmul", matmul); }

}  // namespace resdet
