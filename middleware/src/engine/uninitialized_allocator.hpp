// uninitialized_allocator: std::allocator whose value-initialisation of trivial elements (what
// std::vector::resize does) leaves the bytes as they are instead of zeroing them. For buffers the
// very next statement overwrites in full, such as a message's encoded payload: zeroing a 1 MiB
// payload first costs a pass over memory for nothing.
// Thread-safety: stateless, like std::allocator.
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace cryptcom::engine_detail {

template <class T>
class uninitialized_allocator : public std::allocator<T> {
 public:
  using value_type = T;
  template <class U>
  struct rebind {
    using other = uninitialized_allocator<U>;
  };

  uninitialized_allocator() noexcept = default;
  template <class U>
  uninitialized_allocator(const uninitialized_allocator<U>&) noexcept {}

  // Value-initialisation (no arguments): default-initialise, which for bytes is no write at all.
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

template <class T, class U>
bool operator==(const uninitialized_allocator<T>&, const uninitialized_allocator<U>&) noexcept {
  return true;
}

}  // namespace cryptcom::engine_detail
