// The scoreboard: a shared-memory table, one slot per worker, where workers
// say what they are doing and the manager reads it (DESIGN.md, "Processes
// and data flow"). The daemon creates it (memfd) and hands it to each worker
// as descriptor kScoreboardFd with the worker's slot index.
//
// Lock-free on the hot path: each slot is a seqlock written only by its own
// worker (two atomic increments around the fields) and read by the manager,
// which retries a torn read a bounded number of times. A worker that dies in
// the middle of a write leaves only its own slot odd; the manager resets the
// slot when it reaps the worker. Every field is a std::atomic (strings are
// packed into atomic 64-bit words) so readers and writers never race in the
// C++ sense, and the layout has no pointers, so it means the same in every
// process that maps it.
//
// Times are CLOCK_MONOTONIC (the same clock in every process on the host),
// in milliseconds or microseconds as named.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pyfpm::manager {

namespace scoreboard_layout {
struct Slot;  // scoreboard_layout.hpp: the bytes both sides map
}

enum class SlotState : std::uint32_t {
    Free = 0,  // no worker
    Starting,  // spawned, application not imported yet
    Idle,      // waiting in accept
    Busy,      // serving a request
    Draining,  // asked to leave (recycle, stop): finishes its request, exits
};

std::string_view toString(SlotState state);

// Longest method and URI kept; longer ones are cut (the URI keeps its start).
inline constexpr std::size_t kSlotMethodBytes = 16;
inline constexpr std::size_t kSlotUriBytes = 512;

// Request-duration histogram buckets, as upper bounds in microseconds
// (Prometheus' default buckets, 5 ms to 10 s). Each slot counts its
// worker's finished requests per bucket; a last bucket, past the final
// bound, counts the slower ones (Prometheus' "+Inf").
inline constexpr std::array<std::uint64_t, 11> kDurationBucketBoundsUs = {
    5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};
inline constexpr std::size_t kDurationBuckets = kDurationBucketBoundsUs.size() + 1;

// Per-bucket counts (not cumulative) and the sum of the durations counted.
struct DurationHistogram {
    std::array<std::uint64_t, kDurationBuckets> buckets{};
    std::uint64_t sumUs = 0;

    std::uint64_t count() const;
    DurationHistogram& operator+=(const DurationHistogram& other);
};

// The bucket a request of `durationUs` falls in.
std::size_t durationBucket(std::uint64_t durationUs);

// A consistent copy of one slot.
struct SlotSnapshot {
    std::size_t index = 0;
    pid_t pid = 0;
    SlotState state = SlotState::Free;
    std::int64_t startedAtMs = 0;         // when the worker took the slot
    std::uint64_t requests = 0;           // finished requests
    std::int64_t requestStartedAtMs = 0;  // Busy: the current request; else the last
    std::int64_t idleSinceMs = 0;         // Idle: since when
    std::string method;                   // current (Busy) or last request
    std::string uri;                      // REQUEST_URI, cut to kSlotUriBytes
    std::uint64_t contentLength = 0;      // bytes, of the request body
    std::uint64_t lastRequestDurationUs = 0;
    std::uint64_t rssBytes = 0;           // after the last request; 0 before any
    DurationHistogram durations;          // of the requests this worker finished
};

// CLOCK_MONOTONIC now, in ms: the clock of every *Ms field.
std::int64_t monotonicMs();

// The daemon's side. Owns the memfd and its mapping; one per pool; used on
// the event loop's thread only.
class Scoreboard {
public:
    // Creates a table of `slots` slots, all Free. `name` labels the memfd
    // (/proc/PID/fd shows "memfd:pyfpm-scoreboard-NAME"). Throws
    // std::system_error naming memfd_create(2), ftruncate(2) or mmap(2).
    Scoreboard(std::size_t slots, const std::string& name);
    ~Scoreboard();
    Scoreboard(const Scoreboard&) = delete;
    Scoreboard& operator=(const Scoreboard&) = delete;

    // The descriptor to hand to a worker (close-on-exec is set: the spawner
    // must place it on kScoreboardFd explicitly).
    int fd() const { return fd_; }
    std::size_t capacity() const { return slots_; }

    // Takes a Free slot for a worker about to be spawned (state Starting,
    // pid 0): nullopt when every slot is taken.
    std::optional<std::size_t> claim();
    // Records the pid once the spawn succeeded. The worker may have
    // written it already (SlotWriter::started); this never overwrites a
    // pid, so the two cannot race.
    void assign(std::size_t index, pid_t pid);
    // After the worker is reaped (or its spawn failed): Free again, whatever
    // the worker left in it.
    void release(std::size_t index);

    // The slot's consistent contents; nullopt when it is Free, when the
    // index is outside the table, or when it stayed torn through 64 retries
    // (a worker that died mid-write, or one stopped in the middle of one).
    std::optional<SlotSnapshot> read(std::size_t index) const;
    // Only whether slot `index` says Busy: one atomic load, for the bridge
    // to call per request. False for an index out of range.
    bool busy(std::size_t index) const;
    // Every non-Free slot that reads consistently.
    std::vector<SlotSnapshot> snapshot() const;

private:
    int fd_ = -1;
    std::size_t slots_ = 0;
    void* map_ = nullptr;
    std::size_t mapBytes_ = 0;
};

// The worker's side: its own slot, mapped from the inherited descriptor.
// Used from the worker's main thread only. Each call is a handful of atomic
// stores: cheap enough for every request.
class SlotWriter {
public:
    // Maps slot `index` of the scoreboard on `fd`. Throws std::system_error
    // (fstat, mmap) or std::invalid_argument (index outside the table, bad
    // magic, another version's layout). The mapping outlives `fd`: the
    // caller may close it right after.
    SlotWriter(int fd, std::size_t index);
    ~SlotWriter();
    SlotWriter(const SlotWriter&) = delete;
    SlotWriter& operator=(const SlotWriter&) = delete;

    // pid and start time; state Starting.
    void started(pid_t pid);
    // Waiting for a connection, since now.
    void idle();
    // A request began now. `method` and `uri` are copied, cut to
    // kSlotMethodBytes and kSlotUriBytes.
    void busy(std::string_view method, std::string_view uri, std::uint64_t contentLength);
    // The request ended: requests + 1, duration from busy() to now (also
    // counted in the slot's duration histogram), RSS.
    // The state stays Busy; call idle() or draining() next.
    void finished(std::uint64_t rssBytes);
    // Asked to leave: serves no further request.
    void draining();

private:
    void* map_ = nullptr;
    std::size_t mapBytes_ = 0;
    scoreboard_layout::Slot* slot_ = nullptr;
};

}  // namespace pyfpm::manager
