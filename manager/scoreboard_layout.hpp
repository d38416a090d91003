// The bytes of the scoreboard memfd (scoreboard.hpp), shared by the daemon
// and every worker of a pool: a header, then `slotCount` slots of
// `slotBytes` each, every slot on its own cache lines so that two workers
// never write the same line.
//
// Only scoreboard.cpp and tests that play a worker dying mid-write include
// this; everyone else goes through Scoreboard and SlotWriter.
//
// Every field is a lock-free std::atomic: the same object is mapped by
// several processes, which is defined behaviour only for atomics that need
// no lock (a lock would live in one process's memory, not in the mapping).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace pyfpm::manager::scoreboard_layout {

inline constexpr std::uint64_t kMagic = 0x3142534d50465950;  // "PYFPMSB1", little-endian
inline constexpr std::uint32_t kVersion = 2;  // 2: duration histogram
inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::size_t kMethodWords = 2;   // kSlotMethodBytes / 8
inline constexpr std::size_t kUriWords = 64;     // kSlotUriBytes / 8
inline constexpr std::size_t kDurationBucketWords = 12;  // kDurationBuckets

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

// Written once by the daemon before the first worker is spawned; workers
// check it before they touch their slot.
struct alignas(kCacheLine) Header {
    std::atomic<std::uint64_t> magic;
    std::atomic<std::uint32_t> version;
    std::atomic<std::uint32_t> slotCount;
    std::atomic<std::uint32_t> slotBytes;  // sizeof(Slot), so a worker built
                                           // from other sources is refused
};

// One worker's slot. A seqlock: `sequence` is odd while its writer is in
// the middle of an update. Exactly one process writes a slot at a time: the
// daemon before the spawn (claim) and after the reap (release), the worker
// in between. The one exception, assign(), stores only `pid` with a
// compare-exchange, which cannot tear.
struct alignas(kCacheLine) Slot {
    std::atomic<std::uint32_t> sequence;
    std::atomic<std::uint32_t> state;  // SlotState
    std::atomic<std::int32_t> pid;
    std::atomic<std::uint32_t> methodBytes;
    std::atomic<std::uint32_t> uriBytes;
    std::atomic<std::int64_t> startedAtMs;
    std::atomic<std::int64_t> requestStartedAtUs;  // µs, for the duration
    std::atomic<std::int64_t> idleSinceMs;
    std::atomic<std::uint64_t> requests;
    std::atomic<std::uint64_t> contentLength;
    std::atomic<std::uint64_t> lastRequestDurationUs;
    std::atomic<std::uint64_t> rssBytes;
    std::atomic<std::uint64_t> method[kMethodWords];  // bytes in memory order
    std::atomic<std::uint64_t> uri[kUriWords];
    std::atomic<std::uint64_t> durationBuckets[kDurationBucketWords];
    std::atomic<std::uint64_t> durationSumUs;
};

// Where the slots begin and how long the whole mapping is.
inline constexpr std::size_t kSlotsOffset = sizeof(Header);
inline constexpr std::size_t tableBytes(std::size_t slots)
{
    return kSlotsOffset + slots * sizeof(Slot);
}

inline Header* headerAt(void* map)
{
    return static_cast<Header*>(map);
}

inline Slot* slotAt(void* map, std::size_t index)
{
    return reinterpret_cast<Slot*>(static_cast<char*>(map) + kSlotsOffset) + index;
}

// The writer's half of the seqlock (Boehm, "Can seqlocks get along with
// programming language memory models?", 2012): the odd sequence is
// ordered before the field stores by the release fence, and the even one
// after them by its release store.
inline void beginWrite(Slot& slot)
{
    const std::uint32_t sequence = slot.sequence.load(std::memory_order_relaxed);
    slot.sequence.store(sequence + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
}

inline void endWrite(Slot& slot)
{
    const std::uint32_t sequence = slot.sequence.load(std::memory_order_relaxed);
    slot.sequence.store(sequence + 1, std::memory_order_release);
}

}  // namespace pyfpm::manager::scoreboard_layout
