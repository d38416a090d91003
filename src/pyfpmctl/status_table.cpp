#include "src/pyfpmctl/status_table.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace pyfpm::ctl {

namespace {

using nlohmann::json;
using Row = std::vector<std::string>;

std::string field(const json& object, const char* key)
{
    const auto found = object.find(key);
    if (found == object.end() || found->is_null()) {
        return "-";
    }
    if (found->is_string()) {
        return found->get<std::string>();
    }
    return found->dump();
}

// The listen queue is -1 while unknown (the kernel did not say).
std::string queue(const json& pool)
{
    const auto found = pool.find("listen_queue");
    if (found == pool.end() || !found->is_number_integer() || found->get<long long>() < 0) {
        return "-";
    }
    return found->dump();
}

std::string table(const std::vector<Row>& rows)
{
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()));
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += i + 1 == row.size() ? row[i] : fmt::format("{:<{}}  ", row[i], widths[i]);
        }
        out += line + "\n";
    }
    return out;
}

std::string request(const json& worker)
{
    const std::string method = field(worker, "request_method");
    const std::string uri = field(worker, "request_uri");
    if (method == "-" || method.empty()) {
        return "-";
    }
    return method + " " + uri;
}

}  // namespace

std::string formatBytes(std::uint64_t bytes)
{
    if (bytes == 0) {
        return "-";
    }
    constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(kUnits)) {
        value /= 1024;
        ++unit;
    }
    return unit == 0 ? fmt::format("{}B", bytes) : fmt::format("{:.1f}{}", value, kUnits[unit]);
}

std::string formatMillis(long long ms)
{
    if (ms < 1000) {
        return fmt::format("{}ms", std::max(0LL, ms));
    }
    if (ms < 60'000) {
        return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000);
    }
    return fmt::format("{}m{}s", ms / 60'000, (ms % 60'000) / 1000);
}

std::string formatStatus(const json& answer, bool workers)
{
    const json pools = answer.value("pools", json::array());
    std::vector<Row> rows{{"POOL", "PM", "STATE", "IDLE", "BUSY", "TOTAL", "MAX", "QUEUE", "ACCEPTED",
                           "MAX-REACHED", "SLOW", "RECYCLES", "RESTARTS"}};
    for (const auto& pool : pools) {
        rows.push_back({field(pool, "name"), field(pool, "pm"), field(pool, "state"), field(pool, "idle_workers"),
                        field(pool, "busy_workers"), field(pool, "total_workers"), field(pool, "max_children"),
                        queue(pool), field(pool, "accepted_conn"), field(pool, "max_children_reached"),
                        field(pool, "slow_requests"), field(pool, "recycles_total"), field(pool, "restarts")});
    }
    std::string out = table(rows);
    if (!workers) {
        return out;
    }
    std::vector<Row> workerRows{{"POOL", "PID", "STATE", "REQUESTS", "FOR", "RSS", "REQUEST"}};
    for (const auto& pool : pools) {
        for (const auto& worker : pool.value("workers_detail", json::array())) {
            const std::string activity = field(worker, "activity");
            // A worker the manager is stopping says so, whatever its slot says.
            const std::string state = field(worker, "state") == "stopping" ? "stopping" : activity;
            // A command pool's worker has no scoreboard: nothing to time.
            const bool detail = worker.value("detail", true);
            workerRows.push_back({field(pool, "name"), field(worker, "pid"), state, field(worker, "requests"),
                                  detail ? formatMillis(worker.value("request_duration_ms", 0LL)) : "-",
                                  formatBytes(worker.value("rss_bytes", std::uint64_t{0})), request(worker)});
        }
    }
    return out + "\n" + table(workerRows);
}

}  // namespace pyfpm::ctl
