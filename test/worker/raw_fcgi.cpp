#include "test/worker/raw_fcgi.hpp"

#include <poll.h>
#include <unistd.h>

#include <stdexcept>

namespace pyfpm::test {

std::string encodeRequest(const fcgi::ClientRequest& request, const Params& params,
                          const std::string& body)
{
    fcgi::ParamsBuilder builder;
    for (const auto& [name, value] : params) {
        builder.add(name, value);
    }
    std::string out;
    request.appendBegin(out);
    request.appendParams(out, builder);
    request.appendStdin(out, body);
    request.appendStdinEnd(out);
    return out;
}

void sendAll(int fd, const std::string& bytes)
{
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + sent, bytes.size() - sent);
        if (n <= 0) {
            throw std::runtime_error("write to the worker failed");
        }
        sent += static_cast<std::size_t>(n);
    }
}

std::string finishOn(int fd, fcgi::ClientRequest& request)
{
    std::string body;
    char buffer[65536];
    for (;;) {
        for (fcgi::ClientEvent event = request.next(); event.type != fcgi::ClientEvent::Type::NeedMore;
             event = request.next()) {
            if (event.type == fcgi::ClientEvent::Type::Body) {
                body.append(event.data);
            } else if (event.type == fcgi::ClientEvent::Type::End) {
                return body;
            } else if (event.type == fcgi::ClientEvent::Type::Error) {
                throw std::runtime_error(event.error);
            }
        }
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, 1, 10000) <= 0) {
            throw std::runtime_error("no response within 10 s");
        }
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) {
            throw std::runtime_error("connection closed before FCGI_END_REQUEST");
        }
        request.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
    }
}

}  // namespace pyfpm::test
