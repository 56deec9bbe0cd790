// ObjectPool<T>: fixed-size objects for one engine — connections and TIME-WAIT records.
//
// Storage grows in slabs of kSlab objects up to a hard capacity (the connection limit),
// and freed objects go on a free list, so a steady-state workload (connect, close,
// connect again) never touches the general heap; only the first use of each slab
// allocates. Single-threaded by design: one pool per engine, like everything in lib/tcp.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace sluice::tcp {

template <class T, std::size_t kSlab = 256>
class ObjectPool {
 public:
  /// Setup (may throw std::bad_alloc, like any setup code): reserves the slab table.
  explicit ObjectPool(std::size_t capacity) : capacity_(capacity) {
    slabs_.reserve(capacity / kSlab + 1);
  }
  ObjectPool(const ObjectPool&) = delete;
  ObjectPool& operator=(const ObjectPool&) = delete;
  ~ObjectPool() = default;  // objects must all have been destroyed by their owner

  /// Constructs a T; nullptr when `capacity` objects are alive (or memory is exhausted).
  template <class... Args>
  T* create(Args&&... args) noexcept {
    Slot* s = free_;
    if (s != nullptr) {
      free_ = s->next;
    } else {
      if (live_ >= capacity_ || !grow()) return nullptr;
      s = free_;
      free_ = s->next;
    }
    ++live_;
    return ::new (static_cast<void*>(s->storage)) T(std::forward<Args>(args)...);
  }

  /// Destroys an object made by create().
  void destroy(T* obj) noexcept {
    obj->~T();
    Slot* s = reinterpret_cast<Slot*>(obj);
    s->next = free_;
    free_ = s;
    --live_;
  }

  [[nodiscard]] std::size_t live() const noexcept { return live_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// Bytes reserved for objects so far (slabs), for memory-per-connection figures.
  [[nodiscard]] std::size_t reserved_bytes() const noexcept {
    return slabs_.size() * kSlab * sizeof(Slot);
  }

 private:
  union Slot {
    Slot* next;
    alignas(T) unsigned char storage[sizeof(T)];
  };

  bool grow() noexcept {
    // Cold path: a new slab on first use. nothrow new: out of memory is a refused
    // connection, not a crash.
    std::unique_ptr<Slot[]> slab(new (std::nothrow) Slot[kSlab]);
    if (!slab) return false;
    for (std::size_t i = 0; i < kSlab; ++i) {
      slab[i].next = free_;
      free_ = &slab[i];
    }
    slabs_.push_back(std::move(slab));  // never reallocates: reserved for the capacity
    return true;
  }

  std::size_t capacity_;
  std::size_t live_ = 0;
  Slot* free_ = nullptr;
  std::vector<std::unique_ptr<Slot[]>> slabs_;
};

}  // namespace sluice::tcp
