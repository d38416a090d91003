#include "src/pyfpm/config/pool_checks.hpp"

#include <initializer_list>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "src/pyfpm/config/values.hpp"

namespace pyfpm::config {

namespace {

using manager::PoolConfig;
using manager::ProcessManager;

// One pool's keys as the cross-key rules see them.
class PoolKeys {
public:
    PoolKeys(const PoolConfig& pool, Context& context)
        : context_(context), prefix_("pools." + pool.name) {}

    // Accepted by pass one, or absent and so at its default.
    bool usable(std::string_view key) const {
        auto path = pathOf(key);
        return context_.accepted(path) || !context_.written(path);
    }

    bool usable(std::initializer_list<std::string_view> keys) const {
        for (auto key : keys) {
            if (!usable(key)) return false;
        }
        return true;
    }

    bool written(std::string_view key) const { return context_.written(pathOf(key)).has_value(); }

    // "max_spare_servers (6)", or "(3, the default)" for a key the file
    // leaves out: the user sees where a number they never wrote comes from.
    std::string show(std::string_view key, const std::string& value) const {
        if (written(key)) return fmt::format("{} ({})", key, value);
        return fmt::format("{} ({}, the default)", key, value);
    }

    // At the first of `keys` the file has, else at the pool's name.
    void fail(std::initializer_list<std::string_view> keys, std::string message) const {
        Location at;
        for (auto key : keys) {
            if (auto found = context_.written(pathOf(key))) {
                at = *found;
                break;
            }
        }
        if (at.line == 0) at = context_.written(prefix_).value_or(Location{});
        context_.error(at, prefix_, std::move(message));
    }

private:
    std::string pathOf(std::string_view key) const { return fmt::format("{}.{}", prefix_, key); }

    Context& context_;
    std::string prefix_;
};

// `a (x) > b (y)` when a > b: the wording php-fpm's rule reads as.
template <class Int>
void requireAtMost(const PoolKeys& keys, std::string_view a, Int valueA, std::string_view b,
                   Int valueB) {
    if (!keys.usable({a, b}) || valueA <= valueB) return;
    keys.fail({a, b}, fmt::format("{} > {}", keys.show(a, std::to_string(valueA)),
                                  keys.show(b, std::to_string(valueB))));
}

template <class Int>
void requireAtLeast(const PoolKeys& keys, std::string_view a, Int valueA, std::string_view b,
                    Int valueB) {
    if (!keys.usable({a, b}) || valueA >= valueB) return;
    keys.fail({a, b}, fmt::format("{} < {}", keys.show(a, std::to_string(valueA)),
                                  keys.show(b, std::to_string(valueB))));
}

void checkDynamic(const PoolConfig& pool, const PoolKeys& keys) {
    requireAtMost(keys, "min_spare_servers", pool.min_spare_servers, "max_children", pool.max_children);
    requireAtMost(keys, "max_spare_servers", pool.max_spare_servers, "max_children", pool.max_children);
    requireAtLeast(keys, "max_spare_servers", pool.max_spare_servers, "min_spare_servers",
                   pool.min_spare_servers);

    // A start_servers the loader filled in lies between the spare bounds
    // whenever they are valid; only a written one can be out of range. One
    // error for it, the most telling.
    if (!keys.written("start_servers") || !keys.usable("start_servers")) return;
    if (keys.usable("max_children") && pool.start_servers > pool.max_children)
        return requireAtMost(keys, "start_servers", pool.start_servers, "max_children", pool.max_children);
    if (keys.usable("min_spare_servers") && pool.start_servers < pool.min_spare_servers)
        return requireAtLeast(keys, "start_servers", pool.start_servers, "min_spare_servers",
                              pool.min_spare_servers);
    requireAtMost(keys, "start_servers", pool.start_servers, "max_spare_servers", pool.max_spare_servers);
}

}  // namespace

void checkPool(const PoolConfig& pool, Context& context) {
    PoolKeys keys(pool, context);
    switch (pool.pm) {
    case ProcessManager::Dynamic: checkDynamic(pool, keys); break;
    case ProcessManager::Static:
    case ProcessManager::Ondemand: break;
    }

    requireAtMost(keys, "max_requests_jitter", pool.max_requests_jitter, "max_requests", pool.max_requests);

    if (pool.slowlog_timeout.count() > 0 && pool.slowlog.empty() && keys.usable({"slowlog_timeout", "slowlog"}))
        keys.fail({"slowlog_timeout"},
                  fmt::format("{} needs slowlog, the file the stacks are written to",
                              keys.show("slowlog_timeout", formatDuration(pool.slowlog_timeout))));
}

}  // namespace pyfpm::config
