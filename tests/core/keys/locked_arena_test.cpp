#include "keys/locked_arena.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sodium.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

namespace cryptcom::keys {
namespace {

bool all_zero(std::span<const byte> b) {
  return std::all_of(b.begin(), b.end(), [](byte x) { return x == 0; });
}

TEST(locked_arena, hands_out_zeroed_slots_of_the_asked_size) {
  locked_arena arena(32, 16, 100);
  auto s = arena.allocate();
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(arena.bytes(*s).size(), 32u);
  EXPECT_TRUE(all_zero(arena.bytes(*s)));
  EXPECT_EQ(arena.in_use(), 1u);
  EXPECT_GE(arena.capacity(), 16u);
}

TEST(locked_arena, released_slot_reads_zero_and_comes_back_zeroed) {
  locked_arena arena(32, 16, 100);
  auto s = arena.allocate();
  ASSERT_TRUE(s.ok());
  const std::span<byte> b = arena.bytes(*s);
  randombytes_buf(b.data(), b.size());
  ASSERT_FALSE(all_zero(b));  // 2^-256 chance of a false failure

  arena.release(*s);
  EXPECT_EQ(arena.in_use(), 0u);
  // The chunk stays mapped, so the released bytes can be read: they must be gone.
  EXPECT_TRUE(all_zero(arena.bytes(*s)));

  auto again = arena.allocate();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *s);  // most recently released first: the same bytes are reused
  EXPECT_TRUE(all_zero(arena.bytes(*again)));
}

TEST(locked_arena, bound_hit_is_limit_exceeded_naming_max_slots) {
  locked_arena arena(32, 4, 5);
  std::vector<locked_arena::slot> slots;
  for (int i = 0; i < 5; ++i) {
    auto s = arena.allocate();
    ASSERT_TRUE(s.ok()) << i;
    slots.push_back(*s);
  }
  EXPECT_EQ(arena.capacity(), 5u);  // the chunk is cut at the bound
  auto over = arena.allocate();
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code(), errc::limit_exceeded);
  EXPECT_NE(over.error().message().find("max_slots (5)"), std::string::npos)
      << over.error().message();

  arena.release(slots[2]);
  auto back = arena.allocate();
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, slots[2]);
}

TEST(locked_arena, growth_across_chunks_keeps_earlier_slots_in_place) {
  locked_arena arena(32, 8, 100000);
  const std::size_t per_chunk = arena.slots_per_chunk();
  ASSERT_GE(per_chunk, 8u);  // rounded up to fill the chunk's last page

  std::vector<locked_arena::slot> slots;
  std::vector<const byte*> addresses;
  for (std::size_t i = 0; i < 3 * per_chunk + 1; ++i) {
    auto s = arena.allocate();
    ASSERT_TRUE(s.ok()) << i;
    slots.push_back(*s);
    addresses.push_back(arena.bytes(*s).data());
    std::fill_n(arena.bytes(*s).data(), 32, static_cast<byte>(i * 7 + 1));
  }
  EXPECT_EQ(arena.capacity(), 4 * per_chunk);

  std::set<const byte*> distinct(addresses.begin(), addresses.end());
  EXPECT_EQ(distinct.size(), slots.size());
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const std::span<const byte> b = arena.bytes(slots[i]);
    EXPECT_EQ(b.data(), addresses[i]) << "slot " << i << " moved";
    // Every byte still holds what was written: no two slots overlap.
    EXPECT_TRUE(
        std::all_of(b.begin(), b.end(), [&](byte x) { return x == static_cast<byte>(i * 7 + 1); }))
        << "slot " << i;
  }
}

TEST(locked_arena, reserve_grows_ahead_and_chunks_are_whole_pages) {
  locked_arena arena(32, 100, 1000);
  ASSERT_TRUE(arena.reserve(250).ok());
  EXPECT_GE(arena.capacity(), 250u);
  EXPECT_EQ(arena.in_use(), 0u);
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  EXPECT_EQ(arena.locked_bytes() % page, 0u);
  // Slot memory is nearly all of what is locked: at most the canary and one slot per chunk lost.
  const std::size_t chunks = arena.capacity() / arena.slots_per_chunk();
  EXPECT_LE(arena.locked_bytes() - arena.capacity() * 32, chunks * (16 + 32));

  ASSERT_TRUE(arena.reserve(5000).ok());  // capped at max_slots
  EXPECT_EQ(arena.capacity(), 1000u);
}

// Capabilities are per thread on Linux: this drops CAP_IPC_LOCK from the calling thread's
// effective set (root in a container has it) and restores it on destruction.
class without_ipc_lock {
 public:
  without_ipc_lock() {
    header_.version = _LINUX_CAPABILITY_VERSION_3;
    header_.pid = 0;
    if (syscall(SYS_capget, &header_, saved_) != 0) return;
    __user_cap_data_struct changed[2] = {saved_[0], saved_[1]};
    changed[0].effective &= ~(1u << CAP_IPC_LOCK);
    dropped_ = syscall(SYS_capset, &header_, changed) == 0;
  }
  ~without_ipc_lock() {
    if (dropped_) syscall(SYS_capset, &header_, saved_);
  }
  without_ipc_lock(const without_ipc_lock&) = delete;
  without_ipc_lock& operator=(const without_ipc_lock&) = delete;

 private:
  __user_cap_header_struct header_{};
  __user_cap_data_struct saved_[2]{};
  bool dropped_ = false;
};

// Sets the soft RLIMIT_MEMLOCK (a process-wide limit) for the scope.
class memlock_limit {
 public:
  explicit memlock_limit(rlim_t soft) {
    ok_ = getrlimit(RLIMIT_MEMLOCK, &saved_) == 0;
    rlimit changed = saved_;
    changed.rlim_cur = soft;
    ok_ = ok_ && setrlimit(RLIMIT_MEMLOCK, &changed) == 0;
  }
  ~memlock_limit() { setrlimit(RLIMIT_MEMLOCK, &saved_); }
  memlock_limit(const memlock_limit&) = delete;
  memlock_limit& operator=(const memlock_limit&) = delete;
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

TEST(locked_arena, says_so_when_rlimit_memlock_prevents_locking) {
  const memlock_limit zero(0);
  ASSERT_TRUE(zero.ok());
  const without_ipc_lock no_cap;
  // If this thread can still lock a page, the limit does not bind it: nothing to observe.
  // (The sanitizers' mlock interceptors also always succeed.)
  ASSERT_GE(sodium_init(), 0);
  void* probe = sodium_malloc(64);
  ASSERT_NE(probe, nullptr);
  const bool can_lock = mlock(probe, 64) == 0;
  sodium_free(probe);
  if (can_lock) GTEST_SKIP() << "CAP_IPC_LOCK could not be dropped";

  locked_arena arena(32, 16, 100);
  auto s = arena.allocate();
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_FALSE(arena.fully_locked());
  // Still usable and still wiped.
  std::fill_n(arena.bytes(*s).data(), 32, byte{0x5a});
  arena.release(*s);
  EXPECT_TRUE(all_zero(arena.bytes(*s)));
}

TEST(locked_arena, is_fully_locked_when_the_limit_allows) {
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_MEMLOCK, &limit), 0);
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < 1024 * 1024 && geteuid() != 0) {
    GTEST_SKIP() << "RLIMIT_MEMLOCK below 1 MiB";
  }
  locked_arena arena(32, 1024, 4096);
  ASSERT_TRUE(arena.reserve(4096).ok());
  EXPECT_TRUE(arena.fully_locked());
}

TEST(locked_arena, releasing_a_slot_twice_aborts) {
  locked_arena arena(32, 4, 4);
  auto s = arena.allocate();
  ASSERT_TRUE(s.ok());
  arena.release(*s);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(arena.release(*s), "");
}

}  // namespace
}  // namespace cryptcom::keys
