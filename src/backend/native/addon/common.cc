// Node-API plumbing, the per-thread engine/stream, the weight cache and the module's entry.
#include "common.h"

#include <omp.h>

#include <map>
#include <sstream>

namespace resdet {

std::vector<napi_value> args(napi_env env, napi_callback_info info, size_t n) {
  size_t argc = n;
  std::vector<napi_value> argv(n);
  if (napi_get_cb_info(env, info, &argc, argv.data(), nullptr, nullptr) != napi_ok) throw ArgError("cannot read arguments");
  if (argc < n) throw ArgError("expected " + std::to_string(n) + " arguments, got " + std::to_string(argc));
  return argv;
}

namespace {
bool isNullish(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_null || t == napi_undefined;
}

void typedArray(napi_env env, napi_value v, const char *name, napi_typedarray_type want, void **data, size_t *length) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) throw ArgError(std::string(name) + ": expected a typed array");
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  napi_get_typedarray_info(env, v, &type, length, data, &buffer, &offset);
  if (type != want) throw ArgError(std::string(name) + (want == napi_float32_array ? ": expected a Float32Array" : ": expected an Int32Array"));
  if (*length > 0 && *data == nullptr) throw ArgError(std::string(name) + ": detached buffer");
}
}  // namespace

F32 f32(napi_env env, napi_value v, const char *name, bool optional) {
  F32 out;
  if (optional && isNullish(env, v)) return out;
  void *data = nullptr;
  typedArray(env, v, name, napi_float32_array, &data, &out.length);
  out.data = static_cast<float *>(data);
  return out;
}

I32 i32(napi_env env, napi_value v, const char *name) {
  I32 out;
  void *data = nullptr;
  typedArray(env, v, name, napi_int32_array, &data, &out.length);
  out.data = static_cast<int32_t *>(data);
  return out;
}

double number(napi_env env, napi_value v, const char *name) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) throw ArgError(std::string(name) + ": expected a number");
  return d;
}

void need(const F32 &view, size_t n, const char *name) {
  if (view.length < n) {
    throw ArgError(std::string(name) + ": expected at least " + std::to_string(n) + " elements, got " + std::to_string(view.length));
  }
}

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

dnnl::engine &engine() {
  thread_local dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream &stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

std::string key(const char *tag, const std::vector<int64_t> &values) {
  std::string k(tag);
  k += ':';
  for (auto v : values) {
    k += std::to_string(v);
    k += ',';
  }
  return k;
}

namespace {
struct Cached {
  dnnl::memory::desc md;
  dnnl::memory mem;
};
thread_local std::map<int64_t, std::vector<Cached>> weightCache;
thread_local int threadCount = 0;
}  // namespace

dnnl::memory cachedWeights(int64_t id, const dnnl::memory::desc &want, const dnnl::memory &user) {
  if (want == user.get_desc()) return user;
  auto reorder = [&]() {
    dnnl::memory out(want, engine());
    dnnl::reorder(user, out).execute(stream(), const_cast<dnnl::memory &>(user), out);
    return out;
  };
  if (id <= 0) return reorder();
  auto &entries = weightCache[id];
  for (auto &e : entries) {
    if (e.md == want) return e.mem;
  }
  entries.push_back({want, reorder()});
  return entries.back().mem;
}

void releaseWeights(int64_t id) { weightCache.erase(id); }

std::pair<size_t, size_t> weightCacheStats() {
  size_t n = 0, bytes = 0;
  for (auto &kv : weightCache) {
    for (auto &e : kv.second) {
      n++;
      bytes += e.md.get_size();
    }
  }
  return {n, bytes};
}

void appendActivation(dnnl::post_ops &po, int act, float alpha) {
  switch (act) {
    case 0: break;
    case 1: po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f); break;
    case 2: po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, 0.f, 6.f); break;
    case 3: po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, alpha, 0.f); break;
    case 4: po.append_eltwise(1.f, dnnl::algorithm::eltwise_logistic, 0.f, 0.f); break;
    case 5: po.append_eltwise(1.f, dnnl::algorithm::eltwise_elu, 1.f, 0.f); break;
    default: throw ArgError("activation: unknown code " + std::to_string(act));
  }
}

int threads() { return threadCount > 0 ? threadCount : omp_get_max_threads(); }

void define(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn);
  napi_set_named_property(env, exports, name, fn);
}

namespace {
const char *isaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

napi_value setInt(napi_env env, napi_value obj, const char *name, int64_t v) {
  napi_value n;
  napi_create_int64(env, v, &n);
  napi_set_named_property(env, obj, name, n);
  return obj;
}

/** info() -> { version: "2.6.3", isa: "avx512_core", threads, cachedWeights, cachedBytes } */
napi_value info(napi_env env, napi_callback_info) {
  return guard(env, [&]() {
    napi_value obj, s;
    napi_create_object(env, &obj);
    const dnnl_version_t *v = dnnl_version();
    std::ostringstream ver;
    ver << v->major << '.' << v->minor << '.' << v->patch;
    napi_create_string_utf8(env, ver.str().c_str(), NAPI_AUTO_LENGTH, &s);
    napi_set_named_property(env, obj, "version", s);
    napi_create_string_utf8(env, isaName(dnnl::get_effective_cpu_isa()), NAPI_AUTO_LENGTH, &s);
    napi_set_named_property(env, obj, "isa", s);
    setInt(env, obj, "threads", threads());
    auto stats = weightCacheStats();
    setInt(env, obj, "cachedWeights", static_cast<int64_t>(stats.first));
    setInt(env, obj, "cachedBytes", static_cast<int64_t>(stats.second));
    return obj;
  });
}

/** setThreads(n): this thread's oneDNN and loop threads (OpenMP's team size). */
napi_value setThreads(napi_env env, napi_callback_info cbinfo) {
  return guard(env, [&]() {
    auto a = args(env, cbinfo, 1);
    double n = number(env, a[0], "threads");
    if (!(n >= 1 && n <= 1024)) throw ArgError("threads: expected 1..1024");
    threadCount = static_cast<int>(n);
    omp_set_num_threads(threadCount);
    return undefined(env);
  });
}

/** releaseWeights(id): frees the weights cached for one tensor. */
napi_value release(napi_env env, napi_callback_info cbinfo) {
  return guard(env, [&]() {
    auto a = args(env, cbinfo, 1);
    releaseWeights(static_cast<int64_t>(number(env, a[0], "id")));
    return undefined(env);
  });
}

napi_value init(napi_env env, napi_value exports) {
  define(env, exports, "info", info);
  define(env, exports, "setThreads", setThreads);
  define(env, exports, "releaseWeights", release);
  registerConv(env, exports);
  registerMatmul(env, exports);
  registerPool(env, exports);
  registerEltwise(env, exports);
  registerCopy(env, exports);
  registerBatchNormTrain(env, exports);
  registerRoi(env, exports);
  return exports;
}
}  // namespace

}  // namespace resdet

NAPI_MODULE_INIT() { return resdet::init(env, exports); }
