#include "src/worker/response_writer.hpp"

#include <algorithm>
#include <cassert>
#include <climits>
#include <cstdio>
#include <utility>

#include <unistd.h>

namespace pyfpm::worker {

namespace {

constexpr std::string_view kInternalError =
    "Status: 500 Internal Server Error\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 22\r\n"
    "\r\n"
    "Internal Server Error\n";

// Room putWorkerHeader() needs: "X-Pyfpm-Worker: " and a pid.
constexpr std::size_t kWorkerHeaderSize = 48;

}  // namespace

void ResponseWriter::setHead(ResponseHead head)
{
    assert(!headSent_);
    head_ = std::move(head);
}

bool putAll(FCGX_Stream* out, std::string_view data, bool& broken)
{
    while (!data.empty() && !broken) {
        const auto chunk = static_cast<int>(std::min<std::size_t>(data.size(), INT_MAX));
        if (FCGX_PutStr(data.data(), chunk, out) != chunk) {
            broken = true;
        }
        data.remove_prefix(static_cast<std::size_t>(chunk));
    }
    return !broken;
}

bool ResponseWriter::put(std::string_view data)
{
    return putAll(out_, data, broken_);
}

void ResponseWriter::putWorkerHeader()
{
    if (!nameWorker_) {
        return;
    }
    // CGI header order carries no meaning (RFC 3875 §6.3), so it may come
    // before the Status line.
    char line[kWorkerHeaderSize];
    const int length = std::snprintf(line, sizeof(line), "X-Pyfpm-Worker: %d\r\n", static_cast<int>(::getpid()));
    put(std::string_view(line, static_cast<std::size_t>(length)));
}

bool ResponseWriter::write(std::string_view data, bool flush)
{
    assert(head_.has_value());
    if (!headSent_) {
        headSent_ = true;
        putWorkerHeader();
        put(head_->block);
    }
    if (head_->contentLength) {
        const std::uint64_t room = *head_->contentLength - std::min(bodyBytes_, *head_->contentLength);
        data = data.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(room, data.size())));
    }
    bodyBytes_ += data.size();
    put(data);
    if (flush && !broken_ && FCGX_FFlush(out_) != 0) {
        broken_ = true;
    }
    return !broken_;
}

bool ResponseWriter::finish()
{
    if (!headSent_) {
        return write({}, false);
    }
    return !broken_;
}

bool ResponseWriter::buffers(std::size_t size) const
{
    assert(head_.has_value());
    std::size_t pending = size;
    if (!headSent_) {
        pending += head_->block.size() + (nameWorker_ ? kWorkerHeaderSize : 0);
    }
    // fcgiapp.h: wrNext..stop is the free part of the buffer; a put that
    // fits there is a memcpy.
    return out_->stop >= out_->wrNext && static_cast<std::size_t>(out_->stop - out_->wrNext) >= pending;
}

void ResponseWriter::sendInternalError()
{
    assert(!headSent_);
    headSent_ = true;
    answeredInternalError_ = true;
    putWorkerHeader();
    put(kInternalError);
}

}  // namespace pyfpm::worker
