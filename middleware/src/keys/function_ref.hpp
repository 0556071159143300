// function_ref<R(Args...)>: a non-owning, non-allocating reference to something callable.
//
// The key store calls back into the engine (fill a slot, open a message) with lambdas that
// capture a few references. std::function may allocate for such captures; this never does.
// It refers to the callable, so it must not outlive it: use it as a parameter, not a member.
// Thread-safety: a plain pair of pointers; calling it is as thread-safe as the callable.
#pragma once

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace cryptcom::keys {

template <class Signature>
class function_ref;

template <class R, class... Args>
class function_ref<R(Args...)> {
 public:
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, function_ref> &&
           std::is_invocable_r_v<R, F&, Args...>) function_ref(F&& f)
  noexcept  // NOLINT: implicit, so lambdas convert at the call site
      : call_(&call<std::remove_reference_t<F>>) {
    if constexpr (std::is_function_v<std::remove_reference_t<F>>) {
      target_.function = reinterpret_cast<void (*)()>(&f);
    } else {
      target_.object = const_cast<void*>(static_cast<const void*>(std::addressof(f)));
    }
  }

  R operator()(Args... args) const { return call_(target_, std::forward<Args>(args)...); }

 private:
  // Object pointers and function pointers may not convert to each other portably; keep both.
  union target {
    void* object;
    void (*function)();
  };

  template <class F>
  static R call(target t, Args... args) {
    if constexpr (std::is_void_v<R>) {
      std::invoke(resolve<F>(t), std::forward<Args>(args)...);
    } else {
      return std::invoke(resolve<F>(t), std::forward<Args>(args)...);
    }
  }

  template <class F>
  static decltype(auto) resolve(target t) noexcept {
    if constexpr (std::is_function_v<F>) {
      return reinterpret_cast<F*>(t.function);
    } else {
      return *static_cast<F*>(t.object);
    }
  }

  target target_{};
  R (*call_)(target, Args...);
};

}  // namespace cryptcom::keys
