#include "test/daemon/helpers.hpp"

#include <poll.h>
#include <unistd.h>

#include <fstream>

namespace pyfpm::test {

std::string webPoolConfig(const std::string& poolKeys, bool withHttp) {
    const std::string http = R"(
http:
  listen: 127.0.0.1:{{port}}
  routes: [{prefix: /, pool: web}]
)";
    return (withHttp ? http : std::string()) + R"(
pools:
  web:
    app: bridge_app:app
    python_path: ["{{source}}/test/daemon/apps"]
    listen: web.sock
)" + poolKeys;
}

std::string rawHttp(int port, const std::string& request, std::chrono::milliseconds timeout) {
    Fd fd = connectTcp("127.0.0.1", port);
    if (!fd) return {};
    if (::write(fd.get(), request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
        return {};
    }
    std::string response;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[16384];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd pfd{fd.get(), POLLIN, 0};
        if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n <= 0) break;
        response.append(buf, static_cast<std::size_t>(n));
    }
    return response;
}

int rawStatus(const std::string& response) {
    if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
    return std::stoi(response.substr(9, 3));
}

bool processAlive(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    const std::size_t close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

}  // namespace pyfpm::test
