#include "src/worker/worker_status.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string_view>
#include <utility>

#include <spdlog/spdlog.h>

#include "src/worker/body_reader.hpp"

namespace pyfpm::worker {

namespace {

std::string_view param(const FCGX_Request& request, const char* name)
{
    const char* value = FCGX_GetParam(name, request.envp);
    return value != nullptr ? std::string_view(value) : std::string_view();
}

template <std::size_t N>
void copyCut(char (&target)[N], std::string_view text)
{
    const std::size_t length = std::min(text.size(), N - 1);
    std::memcpy(target, text.data(), length);
    target[length] = '\0';
}

double mebibytes(std::uint64_t bytes)
{
    return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

}  // namespace

WorkerStatus::WorkerStatus(manager::SlotWriter* slot, const NotifyPipe& notify, RecycleLimits limits,
                           std::string pool)
    : slot_(slot), notify_(notify), limits_(limits), pool_(std::move(pool))
{
}

void WorkerStatus::waiting()
{
    if (idle_) {
        return;
    }
    idle_ = true;
    if (slot_ != nullptr) {
        slot_->idle();
    }
}

void WorkerStatus::requestStarted(const FCGX_Request& request)
{
    idle_ = false;
    const std::string_view method = param(request, "REQUEST_METHOD");
    const std::string_view uri = param(request, "REQUEST_URI");
    if (slot_ != nullptr) {
        slot_->busy(method, uri, parseContentLength(FCGX_GetParam("CONTENT_LENGTH", request.envp)));
    }
    if (!recycleAsked_ && limits_.maxRssBytes > 0) {
        copyCut(method_, method);
        copyCut(uri_, uri);
    }
}

void WorkerStatus::requestFinished()
{
    ++requests_;
    const bool wantRss = slot_ != nullptr || limits_.maxRssBytes > 0;
    const std::uint64_t rss = wantRss ? rss_.read() : 0;
    if (slot_ != nullptr) {
        slot_->finished(rss);
    }
    if (recycleAsked_) {
        return;
    }
    const auto due = recycleDue(limits_.maxRequests, limits_.maxRssBytes, requests_, rss);
    if (!due) {
        return;
    }
    recycleAsked_ = true;
    const char* next = "no manager to ask (no --notify-fd); serving on";
    if (notify_.connected()) {
        next = notify_.send(recycleMessage(*due))
                   ? "asked the manager to recycle it; serving until it sends SIGTERM"
                   : "could not ask the manager; serving on";
    }
    if (due->reason == "max_requests") {
        spdlog::info("[pool {}] worker {}: served {} requests (max_requests {}); {}", pool_, ::getpid(),
                     requests_, limits_.maxRequests, next);
    } else {
        spdlog::info("[pool {}] worker {}: RSS {:.1f} MiB after {} {} exceeds max_rss {:.1f} MiB; {}", pool_,
                     ::getpid(), mebibytes(rss), method_, uri_, mebibytes(limits_.maxRssBytes), next);
    }
}

void WorkerStatus::stopping()
{
    if (slot_ != nullptr) {
        slot_->draining();
    }
}

}  // namespace pyfpm::worker
