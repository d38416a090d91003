#include "test/support/nginx.hpp"

#include <unistd.h>

#include <stdexcept>

namespace pyfpm::test {

namespace fs = std::filesystem;

namespace {

const char* const kNginx = "/usr/sbin/nginx";

std::string configFor(const fs::path& dir, int port, const std::string& serverBody)
{
    const std::string d = dir.string();
    std::string config;
    // As root, nginx would otherwise hand the work to `nobody`, who may not
    // enter the temp dir or connect to the test's sockets.
    if (::geteuid() == 0) {
        config += "user root;\n";
    }
    config += "master_process off;\n"
              "error_log " + d + "/error.log info;\n"
              "pid " + d + "/nginx.pid;\n"
              "events { worker_connections 1024; }\n"
              "http {\n"
              "    access_log " + d + "/access.log;\n"
              "    client_body_temp_path " + d + "/client_body;\n"
              "    fastcgi_temp_path " + d + "/fastcgi_temp;\n"
              "    proxy_temp_path " + d + "/proxy_temp;\n"
              "    uwsgi_temp_path " + d + "/uwsgi_temp;\n"
              "    scgi_temp_path " + d + "/scgi_temp;\n"
              "    client_max_body_size 64m;\n"
              "    default_type application/octet-stream;\n"
              "    server {\n"
              "        listen 127.0.0.1:" + std::to_string(port) + ";\n"
              "        server_name localhost;\n" +
              serverBody +
              "\n    }\n"
              "}\n";
    return config;
}

}  // namespace

std::string NginxFixture::fastcgiPassBody(const fs::path& socket)
{
    return "        location / {\n"
           "            fastcgi_split_path_info ^()(.*)$;\n"
           "            include /etc/nginx/fastcgi_params;\n"
           "            fastcgi_param PATH_INFO $fastcgi_path_info;\n"
           "            fastcgi_pass unix:" + socket.string() + ";\n"
           "        }\n";
}

NginxFixture::NginxFixture(const std::string& serverBody, std::chrono::milliseconds timeout)
{
    // ephemeralPort() cannot reserve the port; if another process takes it
    // before nginx binds, nginx exits and the next port is tried.
    constexpr int kAttempts = 3;
    for (int attempt = 1; attempt <= kAttempts; ++attempt) {
        port_ = ephemeralPort();
        const fs::path config = dir() / "nginx.conf";
        writeFile(config, configFor(dir(), port_, serverBody));
        Child::Options options;
        options.argv = {kNginx, "-p", dir().string(), "-e", (dir() / "error.log").string(),
                        "-c", config.string(), "-g", "daemon off;"};
        options.stdoutFile = dir() / "stdout.log";
        options.stderrFile = dir() / "error.log";
        process_ = Child(options);
        const bool listening = waitUntil(
            [&] { return !process_.running() || static_cast<bool>(connectTcp("127.0.0.1", port_)); },
            timeout);
        if (listening && process_.running()) {
            return;
        }
        const std::string log = errorLog();
        if (attempt == kAttempts || log.find("Address already in use") == std::string::npos) {
            throw std::runtime_error("nginx did not start on port " + std::to_string(port_) + ":\n" + log);
        }
    }
}

NginxFixture::~NginxFixture() = default;

std::string NginxFixture::url(const std::string& pathAndQuery) const
{
    return "http://127.0.0.1:" + std::to_string(port_) + pathAndQuery;
}

std::string NginxFixture::errorLog() const
{
    return readFile(dir() / "error.log");
}

}  // namespace pyfpm::test
