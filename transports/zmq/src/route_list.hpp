// route_list: an intrusive doubly linked list of routes, in the order they were appended.
//
// The routing table keeps each route in up to two orders at once (by activity, and among its
// connection's paths that have not completed an exchange, by age). Linking the routes themselves
// makes appending, unlinking and moving to the back O(1) and costs no allocation per route.
// `Link` names the member of T that holds this list's pointers; a T is in at most one list per
// link member. The list owns nothing.
// Thread-safety: none.
#pragma once

#include <cstddef>

namespace cryptcom::zmq::detail {

template <class T>
struct list_link {
  T* prev = nullptr;
  T* next = nullptr;
};

template <class T, list_link<T> T::*Link>
class route_list {
 public:
  T* front() const noexcept { return head_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  void push_back(T* t) noexcept {
    list_link<T>& l = t->*Link;
    l.prev = tail_;
    l.next = nullptr;
    if (tail_ != nullptr) {
      (tail_->*Link).next = t;
    } else {
      head_ = t;
    }
    tail_ = t;
    ++size_;
  }

  // `t` must be in this list.
  void erase(T* t) noexcept {
    list_link<T>& l = t->*Link;
    if (l.prev != nullptr) {
      (l.prev->*Link).next = l.next;
    } else {
      head_ = l.next;
    }
    if (l.next != nullptr) {
      (l.next->*Link).prev = l.prev;
    } else {
      tail_ = l.prev;
    }
    l.prev = l.next = nullptr;
    --size_;
  }

  void move_to_back(T* t) noexcept {
    if (t == tail_) return;
    erase(t);
    push_back(t);
  }

 private:
  T* head_ = nullptr;
  T* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace cryptcom::zmq::detail
