#include "manager/scoreboard.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <new>
#include <stdexcept>
#include <system_error>

#include "manager/scoreboard_layout.hpp"

namespace pyfpm::manager {

namespace layout = scoreboard_layout;

static_assert(layout::kMethodWords * 8 == kSlotMethodBytes);
static_assert(layout::kUriWords * 8 == kSlotUriBytes);
static_assert(layout::kDurationBucketWords == kDurationBuckets);
static_assert(sizeof(layout::Slot) % layout::kCacheLine == 0);

namespace {

// A torn read means the writer was between its two increments. Workers
// write a slot in well under a microsecond, so a few dozen tries see a
// consistent copy unless the writer died in the middle (or is stopped).
constexpr int kReadAttempts = 64;

std::system_error systemError(const char* call)
{
    return std::system_error(errno, std::generic_category(), call);
}

std::int64_t monotonicUs()
{
    timespec now = {};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1'000;
}

// Packs `text` (cut to `words` * 8 bytes) into the atomic words, touching
// only the words the text needs; returns the length kept.
template <std::size_t N>
std::uint32_t storeText(std::atomic<std::uint64_t> (&words)[N], std::string_view text)
{
    const std::size_t length = std::min(text.size(), N * 8);
    for (std::size_t word = 0; word * 8 < length; ++word) {
        std::uint64_t packed = 0;
        std::memcpy(&packed, text.data() + word * 8, std::min<std::size_t>(8, length - word * 8));
        words[word].store(packed, std::memory_order_relaxed);
    }
    return static_cast<std::uint32_t>(length);
}

template <std::size_t N>
std::string loadText(const std::atomic<std::uint64_t> (&words)[N], std::uint32_t length)
{
    // The length comes from another process: never trust it past the array.
    std::string text(std::min<std::size_t>(length, N * 8), '\0');
    for (std::size_t word = 0; word * 8 < text.size(); ++word) {
        const std::uint64_t packed = words[word].load(std::memory_order_relaxed);
        std::memcpy(text.data() + word * 8, &packed, std::min<std::size_t>(8, text.size() - word * 8));
    }
    return text;
}

// Every field back to zero, state Free; the caller holds the write side.
void clearFields(layout::Slot& slot)
{
    constexpr auto relaxed = std::memory_order_relaxed;
    slot.state.store(static_cast<std::uint32_t>(SlotState::Free), relaxed);
    slot.pid.store(0, relaxed);
    slot.methodBytes.store(0, relaxed);
    slot.uriBytes.store(0, relaxed);
    slot.startedAtMs.store(0, relaxed);
    slot.requestStartedAtUs.store(0, relaxed);
    slot.idleSinceMs.store(0, relaxed);
    slot.requests.store(0, relaxed);
    slot.contentLength.store(0, relaxed);
    slot.lastRequestDurationUs.store(0, relaxed);
    slot.rssBytes.store(0, relaxed);
    for (auto& bucket : slot.durationBuckets) bucket.store(0, relaxed);
    slot.durationSumUs.store(0, relaxed);
}

void setState(layout::Slot& slot, SlotState state)
{
    slot.state.store(static_cast<std::uint32_t>(state), std::memory_order_relaxed);
}

// A value another process wrote; anything unknown reads as torn.
std::optional<SlotState> decodeState(std::uint32_t value)
{
    if (value > static_cast<std::uint32_t>(SlotState::Draining)) {
        return std::nullopt;
    }
    return static_cast<SlotState>(value);
}

}  // namespace

std::string_view toString(SlotState state)
{
    switch (state) {
    case SlotState::Free:
        return "free";
    case SlotState::Starting:
        return "starting";
    case SlotState::Idle:
        return "idle";
    case SlotState::Busy:
        return "busy";
    case SlotState::Draining:
        return "draining";
    }
    return "unknown";
}

std::uint64_t DurationHistogram::count() const
{
    std::uint64_t total = 0;
    for (const std::uint64_t bucket : buckets) total += bucket;
    return total;
}

DurationHistogram& DurationHistogram::operator+=(const DurationHistogram& other)
{
    for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += other.buckets[i];
    sumUs += other.sumUs;
    return *this;
}

std::size_t durationBucket(std::uint64_t durationUs)
{
    // Prometheus buckets are "less than or equal to" their bound.
    const auto* bound = std::lower_bound(kDurationBucketBoundsUs.begin(), kDurationBucketBoundsUs.end(), durationUs);
    return static_cast<std::size_t>(bound - kDurationBucketBoundsUs.begin());
}

std::int64_t monotonicMs()
{
    return monotonicUs() / 1'000;
}

Scoreboard::Scoreboard(std::size_t slots, const std::string& name)
    : slots_(slots), mapBytes_(layout::tableBytes(slots))
{
    if (slots == 0 || slots > UINT32_MAX) {
        throw std::invalid_argument("a scoreboard needs between 1 and 2^32-1 slots");
    }
    const std::string label = "pyfpm-scoreboard-" + name;
    fd_ = ::memfd_create(label.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd_ < 0) {
        throw systemError("memfd_create(2)");
    }
    if (::ftruncate(fd_, static_cast<off_t>(mapBytes_)) != 0) {
        const auto error = systemError("ftruncate(2)");
        ::close(fd_);
        throw error;
    }
    // Workers get this descriptor: a buggy or hostile one that shrank the
    // file would make the daemon's next read of a slot past the new end
    // die of SIGBUS. Sealing the size makes the table's length a fact.
    if (::fcntl(fd_, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
        const auto error = systemError("fcntl(2) F_ADD_SEALS");
        ::close(fd_);
        throw error;
    }
    map_ = ::mmap(nullptr, mapBytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (map_ == MAP_FAILED) {
        map_ = nullptr;
        const auto error = systemError("mmap(2)");
        ::close(fd_);
        throw error;
    }
    // The file is zero-filled; constructing the objects makes them atomics
    // in C++'s eyes too. Workers only ever map a table built here.
    auto* header = new (map_) layout::Header{};
    for (std::size_t index = 0; index < slots_; ++index) {
        new (layout::slotAt(map_, index)) layout::Slot{};
    }
    header->version.store(layout::kVersion, std::memory_order_relaxed);
    header->slotCount.store(static_cast<std::uint32_t>(slots_), std::memory_order_relaxed);
    header->slotBytes.store(sizeof(layout::Slot), std::memory_order_relaxed);
    // Last, so that a table with the magic is complete (the fork and exec
    // of the first worker order it anyway).
    header->magic.store(layout::kMagic, std::memory_order_release);
}

Scoreboard::~Scoreboard()
{
    ::munmap(map_, mapBytes_);
    ::close(fd_);
}

std::optional<std::size_t> Scoreboard::claim()
{
    for (std::size_t index = 0; index < slots_; ++index) {
        layout::Slot& slot = *layout::slotAt(map_, index);
        if (slot.state.load(std::memory_order_relaxed) != static_cast<std::uint32_t>(SlotState::Free)) {
            continue;
        }
        layout::beginWrite(slot);
        clearFields(slot);
        setState(slot, SlotState::Starting);
        slot.startedAtMs.store(monotonicMs(), std::memory_order_relaxed);
        layout::endWrite(slot);
        return index;
    }
    return std::nullopt;
}

void Scoreboard::assign(std::size_t index, pid_t pid)
{
    // The worker may already have written its own pid (started()); both
    // are the same number, and a compare-exchange never overwrites it.
    std::int32_t expected = 0;
    layout::slotAt(map_, index)->pid.compare_exchange_strong(expected, pid, std::memory_order_relaxed);
}

void Scoreboard::release(std::size_t index)
{
    layout::Slot& slot = *layout::slotAt(map_, index);
    // A worker that died between its two increments left the sequence odd:
    // it already reads as "being written", so finishing that write is all
    // it takes to make the slot consistent again.
    if ((slot.sequence.load(std::memory_order_relaxed) & 1U) == 0) {
        layout::beginWrite(slot);
    }
    clearFields(slot);
    layout::endWrite(slot);
}

bool Scoreboard::busy(std::size_t index) const
{
    if (index >= slots_) {
        return false;
    }
    const auto state = decodeState(layout::slotAt(map_, index)->state.load(std::memory_order_relaxed));
    return state && *state == SlotState::Busy;
}

std::optional<SlotSnapshot> Scoreboard::read(std::size_t index) const
{
    if (index >= slots_) {
        return std::nullopt;
    }
    const layout::Slot& slot = *layout::slotAt(map_, index);
    constexpr auto relaxed = std::memory_order_relaxed;
    for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
        const std::uint32_t before = slot.sequence.load(std::memory_order_acquire);
        if ((before & 1U) != 0) {
            continue;
        }
        SlotSnapshot copy;
        copy.index = index;
        const std::uint32_t state = slot.state.load(relaxed);
        copy.pid = slot.pid.load(relaxed);
        copy.startedAtMs = slot.startedAtMs.load(relaxed);
        copy.requestStartedAtMs = slot.requestStartedAtUs.load(relaxed) / 1'000;
        copy.idleSinceMs = slot.idleSinceMs.load(relaxed);
        copy.requests = slot.requests.load(relaxed);
        copy.contentLength = slot.contentLength.load(relaxed);
        copy.lastRequestDurationUs = slot.lastRequestDurationUs.load(relaxed);
        copy.rssBytes = slot.rssBytes.load(relaxed);
        copy.method = loadText(slot.method, slot.methodBytes.load(relaxed));
        copy.uri = loadText(slot.uri, slot.uriBytes.load(relaxed));
        for (std::size_t bucket = 0; bucket < kDurationBuckets; ++bucket) {
            copy.durations.buckets[bucket] = slot.durationBuckets[bucket].load(relaxed);
        }
        copy.durations.sumUs = slot.durationSumUs.load(relaxed);
        // Reader's half of the seqlock: the field loads happen before the
        // second look at the sequence.
        std::atomic_thread_fence(std::memory_order_acquire);
        if (slot.sequence.load(relaxed) != before) {
            continue;
        }
        const auto decoded = decodeState(state);
        if (!decoded) {
            return std::nullopt;
        }
        if (*decoded == SlotState::Free) {
            return std::nullopt;
        }
        copy.state = *decoded;
        return copy;
    }
    return std::nullopt;
}

std::vector<SlotSnapshot> Scoreboard::snapshot() const
{
    std::vector<SlotSnapshot> slots;
    for (std::size_t index = 0; index < slots_; ++index) {
        if (auto slot = read(index)) {
            slots.push_back(std::move(*slot));
        }
    }
    return slots;
}

SlotWriter::SlotWriter(int fd, std::size_t index)
{
    struct stat info = {};
    if (::fstat(fd, &info) != 0) {
        throw systemError("fstat(2) on the scoreboard descriptor");
    }
    const auto size = static_cast<std::size_t>(info.st_size);
    if (size < layout::tableBytes(1)) {
        throw std::invalid_argument("the scoreboard descriptor is too small to be a scoreboard");
    }
    void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        throw systemError("mmap(2) of the scoreboard");
    }
    const layout::Header& header = *std::launder(layout::headerAt(map));
    const char* problem = nullptr;
    if (header.magic.load(std::memory_order_acquire) != layout::kMagic) {
        problem = "the scoreboard descriptor is not a pyfpm scoreboard (bad magic)";
    } else if (header.version.load(std::memory_order_relaxed) != layout::kVersion ||
               header.slotBytes.load(std::memory_order_relaxed) != sizeof(layout::Slot)) {
        problem = "the scoreboard was made by another pyfpm version";
    } else if (index >= header.slotCount.load(std::memory_order_relaxed) ||
               layout::tableBytes(index + 1) > size) {
        problem = "the slot index is outside the scoreboard";
    }
    if (problem != nullptr) {
        ::munmap(map, size);
        throw std::invalid_argument(problem);
    }
    map_ = map;
    mapBytes_ = size;
    slot_ = std::launder(layout::slotAt(map, index));
}

SlotWriter::~SlotWriter()
{
    ::munmap(map_, mapBytes_);
}

void SlotWriter::started(pid_t pid)
{
    auto& slot = *slot_;
    layout::beginWrite(slot);
    slot.pid.store(pid, std::memory_order_relaxed);
    slot.startedAtMs.store(monotonicMs(), std::memory_order_relaxed);
    setState(slot, SlotState::Starting);
    layout::endWrite(slot);
}

void SlotWriter::idle()
{
    auto& slot = *slot_;
    layout::beginWrite(slot);
    slot.idleSinceMs.store(monotonicMs(), std::memory_order_relaxed);
    setState(slot, SlotState::Idle);
    layout::endWrite(slot);
}

void SlotWriter::busy(std::string_view method, std::string_view uri, std::uint64_t contentLength)
{
    auto& slot = *slot_;
    layout::beginWrite(slot);
    slot.requestStartedAtUs.store(monotonicUs(), std::memory_order_relaxed);
    slot.methodBytes.store(storeText(slot.method, method), std::memory_order_relaxed);
    slot.uriBytes.store(storeText(slot.uri, uri), std::memory_order_relaxed);
    slot.contentLength.store(contentLength, std::memory_order_relaxed);
    setState(slot, SlotState::Busy);
    layout::endWrite(slot);
}

void SlotWriter::finished(std::uint64_t rssBytes)
{
    auto& slot = *slot_;
    const std::int64_t elapsed = monotonicUs() - slot.requestStartedAtUs.load(std::memory_order_relaxed);
    const auto durationUs = static_cast<std::uint64_t>(std::max<std::int64_t>(elapsed, 0));
    constexpr auto relaxed = std::memory_order_relaxed;
    auto& bucket = slot.durationBuckets[durationBucket(durationUs)];
    layout::beginWrite(slot);
    // Only this worker writes `requests` and the histogram while it holds
    // the slot, so a load and a store make an increment.
    slot.requests.store(slot.requests.load(relaxed) + 1, relaxed);
    slot.lastRequestDurationUs.store(durationUs, relaxed);
    bucket.store(bucket.load(relaxed) + 1, relaxed);
    slot.durationSumUs.store(slot.durationSumUs.load(relaxed) + durationUs, relaxed);
    slot.rssBytes.store(rssBytes, std::memory_order_relaxed);
    layout::endWrite(slot);
}

void SlotWriter::draining()
{
    auto& slot = *slot_;
    layout::beginWrite(slot);
    setState(slot, SlotState::Draining);
    layout::endWrite(slot);
}

}  // namespace pyfpm::manager
