// Shared plumbing of resdet's native backend: Node-API argument helpers, the oneDNN engine and
// stream of the calling thread, and a bounded per-thread cache of primitives keyed by shape.
//
// Every entry point validates its arguments (types, lengths against the shapes it is given)
// before touching memory and turns every C++ exception into a JS Error: bad input from JS must
// give an error, never a crash of the process. Tensors are float32, NHWC, read and written in
// place in the JS typed arrays tfjs-backend-cpu keeps (no copies).
#pragma once

#include <node_api.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <list>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace resdet {

/** A bad argument from JS: reported as a TypeError-like message, never a crash. */
struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/** A float32 view of a JS Float32Array (data pointer and element count). */
struct F32 {
  float *data = nullptr;
  size_t length = 0;
};

/** An int32 view of a JS Int32Array. */
struct I32 {
  int32_t *data = nullptr;
  size_t length = 0;
};

/** Reads the call's arguments; throws ArgError when fewer than `n` were passed. */
std::vector<napi_value> args(napi_env env, napi_callback_info info, size_t n);

/** `v` as a Float32Array view (null allowed when `optional`: returns an empty view). */
F32 f32(napi_env env, napi_value v, const char *name, bool optional = false);
/** `v` as an Int32Array view. */
I32 i32(napi_env env, napi_value v, const char *name);
/** `v` as a number. */
double number(napi_env env, napi_value v, const char *name);
/** Throws ArgError unless `view` holds at least `need` elements. */
void need(const F32 &view, size_t need, const char *name);

napi_value undefined(napi_env env);

/** Runs `body`, turning exceptions into JS errors ("resdet native: <what>"). */
template <typename F>
napi_value guard(napi_env env, F body) {
  try {
    return body();
  } catch (const dnnl::error &e) {
    napi_throw_error(env, "RESDET_NATIVE_UNSUPPORTED", (std::string("resdet native: oneDNN: ") + e.what()).c_str());
  } catch (const ArgError &e) {
    napi_throw_type_error(env, "RESDET_NATIVE_ARG", (std::string("resdet native: ") + e.what()).c_str());
  } catch (const std::bad_alloc &) {
    napi_throw_range_error(env, "RESDET_NATIVE_OOM", "resdet native: out of memory");
  } catch (const std::exception &e) {
    napi_throw_error(env, nullptr, (std::string("resdet native: ") + e.what()).c_str());
  }
  return nullptr;
}

/** The CPU engine and an in-order stream, one per calling thread (main thread or worker). */
dnnl::engine &engine();
dnnl::stream &stream();

/** Product of dims (a shape, or a memory descriptor's dims). */
inline size_t count(const dnnl::memory::dims &d) {
  size_t n = 1;
  for (auto v : d) n *= static_cast<size_t>(v);
  return n;
}

/** A small LRU map from a shape key to a cached object (primitives and their descriptors). */
template <typename V>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}
  V *find(const std::string &key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }
  V &insert(const std::string &key, V value) {
    order_.emplace_front(key, std::move(value));
    index_[key] = order_.begin();
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    return order_.front().second;
  }
  size_t size() const { return order_.size(); }
  void clear() {
    index_.clear();
    order_.clear();
  }

 private:
  size_t capacity_;
  std::list<std::pair<std::string, V>> order_;
  std::unordered_map<std::string, typename std::list<std::pair<std::string, V>>::iterator> index_;
};

/** A key from integers: "tag:a,b,c,...". */
std::string key(const char *tag, const std::vector<int64_t> &values);

/**
 * Weights reordered into the layout a primitive chose (format_tag::any), kept by an id that JS
 * assigns to one weight tensor (its dataId) and frees when the tensor is disposed. At inference
 * the same weights meet the same primitive every call, so the reorder is paid once.
 */
dnnl::memory cachedWeights(int64_t id, const dnnl::memory::desc &want, const dnnl::memory &user);
/** Drops the weights cached under `id` (all layouts). */
void releaseWeights(int64_t id);
/** Number of cached weight layouts and their bytes (for leak tests). */
std::pair<size_t, size_t> weightCacheStats();

/**
 * Appends the activation with JS's code (src/backend/native/kernels/fused.ts): 0 linear,
 * 1 relu, 2 relu6, 3 leaky relu (alpha), 4 sigmoid, 5 elu.
 */
void appendActivation(dnnl::post_ops &po, int act, float alpha);

/** Registers one function on the module's exports. */
void define(napi_env env, napi_value exports, const char *name, napi_callback cb);

// Each kernel file registers its functions.
void registerConv(napi_env env, napi_value exports);
void registerMatmul(napi_env env, napi_value exports);
void registerPool(napi_env env, napi_value exports);
void registerEltwise(napi_env env, napi_value exports);
void registerCopy(napi_env env, napi_value exports);
void registerBatchNormTrain(napi_env env, napi_value exports);
void registerRoi(napi_env env, napi_value exports);

/** Thread count for this thread's oneDNN calls and loops (OpenMP). */
int threads();

}  // namespace resdet
