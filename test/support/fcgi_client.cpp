#include "test/support/fcgi_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace pyfpm::test {

namespace {

bool iequals(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string FcgiResponse::header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) return value;
    }
    return {};
}

std::vector<std::string> FcgiResponse::headerValues(const std::string& name) const {
    std::vector<std::string> values;
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) values.push_back(value);
    }
    return values;
}

Params cgiParams(const std::string& method, const std::string& uri, std::size_t bodyLength,
                 const Params& extra) {
    const std::size_t q = uri.find('?');
    Params params = {
        {"GATEWAY_INTERFACE", "CGI/1.1"},
        {"SERVER_SOFTWARE", "pyfpm-test"},
        {"SERVER_PROTOCOL", "HTTP/1.1"},
        {"SERVER_NAME", "localhost"},
        {"SERVER_PORT", "80"},
        {"SERVER_ADDR", "127.0.0.1"},
        {"REMOTE_ADDR", "127.0.0.1"},
        {"REMOTE_PORT", "40000"},
        {"REQUEST_SCHEME", "http"},
        {"REQUEST_METHOD", method},
        {"REQUEST_URI", uri},
        {"SCRIPT_NAME", ""},
        {"PATH_INFO", uri.substr(0, q)},
        {"QUERY_STRING", q == std::string::npos ? "" : uri.substr(q + 1)},
        {"HTTP_HOST", "localhost"},
    };
    if (bodyLength > 0) params.emplace_back("CONTENT_LENGTH", std::to_string(bodyLength));
    for (const auto& [key, value] : extra) {
        bool replaced = false;
        for (auto& p : params) {
            if (p.first == key) {
                p.second = value;
                replaced = true;
            }
        }
        if (!replaced) params.emplace_back(key, value);
    }
    return params;
}

FcgiResponse fcgiRequest(const std::filesystem::path& socket, const Params& params,
                         const std::string& stdinData, std::chrono::milliseconds timeout) {
    Fd fd = connectUnix(socket);
    if (!fd) {
        throw std::runtime_error("connect " + socket.string() + ": " + std::strerror(errno));
    }
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK);

    fcgi::ClientRequest request(1);
    fcgi::ParamsBuilder builder;
    for (const auto& [name, value] : params) builder.add(name, value);
    std::string out;
    request.appendBegin(out);
    request.appendParams(out, builder);
    request.appendStdin(out, stdinData);
    request.appendStdinEnd(out);

    FcgiResponse response;
    std::size_t written = 0;
    bool readClosed = false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[65536];
    // Write and read at once: a worker may answer before it has read the
    // whole body, and a full socket buffer in both directions would deadlock.
    for (;;) {
        for (;;) {
            fcgi::ClientEvent event = request.next();
            switch (event.type) {
            case fcgi::ClientEvent::Type::NeedMore: break;
            case fcgi::ClientEvent::Type::Head:
                response.status = request.head().status;
                response.reason = request.head().reason;
                response.headers = request.head().headers;
                continue;
            case fcgi::ClientEvent::Type::Body: response.body.append(event.data); continue;
            case fcgi::ClientEvent::Type::Stderr: response.stderrData.append(event.data); continue;
            case fcgi::ClientEvent::Type::End: response.end = event.end; return response;
            case fcgi::ClientEvent::Type::Error:
                throw std::runtime_error("FastCGI error: " + event.error);
            }
            break;
        }
        if (readClosed) {
            const fcgi::ClientEvent event = request.eof();
            throw std::runtime_error("FastCGI error: " + event.error);
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) throw std::runtime_error("FastCGI request timed out");
        pollfd pfd{fd.get(), static_cast<short>(POLLIN | (written < out.size() ? POLLOUT : 0)), 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
            throw std::runtime_error(std::string("poll(2): ") + std::strerror(errno));
        }
        if ((pfd.revents & POLLOUT) != 0 && written < out.size()) {
            const ssize_t n = ::send(fd.get(), out.data() + written, out.size() - written, MSG_NOSIGNAL);
            if (n > 0) written += static_cast<std::size_t>(n);
            // EPIPE: the worker stopped reading; what it sent still counts.
            if (n < 0 && errno != EAGAIN && errno != EINTR) written = out.size();
        }
        if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            const ssize_t n = ::read(fd.get(), buf, sizeof buf);
            if (n > 0) {
                request.feed(std::string_view(buf, static_cast<std::size_t>(n)));
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                readClosed = true;
            }
        }
    }
}

}  // namespace pyfpm::test
