#include "src/pyfpm/http/reply.hpp"

#include <event2/buffer.h>
#include <event2/http_struct.h>

#include <algorithm>
#include <array>

#include "src/pyfpm/http/ascii.hpp"
#include "src/pyfpm/http/libevent_ptr.hpp"

namespace pyfpm::http {

std::string_view methodName(evhttp_cmd_type method) {
    switch (method) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    }
    return "UNKNOWN";
}

HttpVersion httpVersion(const evhttp_request* request) {
    return HttpVersion{request->major, request->minor};
}

void sendPlainText(evhttp_request* request, int status, std::string_view body) {
    evkeyvalq* headers = evhttp_request_get_output_headers(request);
    evhttp_remove_header(headers, "Content-Type");
    evhttp_add_header(headers, "Content-Type", "text/plain; charset=utf-8");
    if (evhttp_request_get_command(request) == EVHTTP_REQ_HEAD) {
        // evhttp sends whatever body it is given, even for HEAD.
        evhttp_add_header(headers, "Content-Length", std::to_string(body.size()).c_str());
        evhttp_send_reply(request, status, nullptr, nullptr);
        return;
    }
    EvbufferPtr buffer(evbuffer_new());
    evbuffer_add(buffer.get(), body.data(), body.size());
    evhttp_send_reply(request, status, nullptr, buffer.get());
}

bool isHopByHopHeader(std::string_view name) {
    static constexpr std::array<std::string_view, 7> kHopByHop = {
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding",
        "Upgrade",
    };
    return std::any_of(kHopByHop.begin(), kHopByHop.end(),
                       [name](std::string_view hop) { return iequals(name, hop); });
}

std::string describeRequest(std::string_view method, std::string_view uri) {
    constexpr std::size_t kMaxUri = 256;
    std::string out(method);
    out += ' ';
    for (const char c : uri.substr(0, kMaxUri)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[u >> 4];
            out += kHex[u & 0xf];
        } else {
            out += c;
        }
    }
    if (uri.size() > kMaxUri) out += "...";
    return out;
}

}  // namespace pyfpm::http
