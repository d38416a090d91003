// A real nginx for integration tests: one process (master_process off, so
// killing its pid leaves nothing behind), listening on an ephemeral
// 127.0.0.1 port, with its config, pid, logs and temp files in its own temp
// dir. Started by the constructor, SIGKILLed and reaped by the destructor
// (test::Child), pass or fail.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "test/support/process.hpp"

namespace pyfpm::test {

class NginxFixture {
public:
    // `serverBody` is the inside of the one `server { }` block, without the
    // `listen` line, which the fixture adds. Starts nginx and waits until the
    // port accepts connections; throws std::runtime_error with nginx's error
    // log if it exits or does not listen within `timeout`.
    explicit NginxFixture(const std::string& serverBody, std::chrono::milliseconds timeout = 10s);
    ~NginxFixture();
    NginxFixture(const NginxFixture&) = delete;
    NginxFixture& operator=(const NginxFixture&) = delete;

    // A server body that sends every request to the FastCGI application on
    // the unix socket `socket` as nginx's documentation has it:
    // /etc/nginx/fastcgi_params, SCRIPT_NAME "" and PATH_INFO the whole
    // decoded path (fastcgi_split_path_info), which is what a WSGI
    // application mounted at / expects.
    static std::string fastcgiPassBody(const std::filesystem::path& socket);

    int port() const { return port_; }
    // http://127.0.0.1:PORT + `pathAndQuery` (which starts with '/').
    std::string url(const std::string& pathAndQuery) const;
    // nginx's error log (FCGI_STDERR lines from the application land here).
    std::string errorLog() const;
    const std::filesystem::path& dir() const { return dir_.path(); }
    pid_t pid() const { return process_.pid(); }

private:
    TempDir dir_;
    int port_ = 0;
    Child process_;
};

}  // namespace pyfpm::test
