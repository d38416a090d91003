#include "test/worker/cgi_fcgi.hpp"

#include <fcntl.h>

#include <atomic>
#include <stdexcept>
#include <strings.h>

namespace pyfpm::test {

namespace fs = std::filesystem;

std::string CgiResponse::header(const std::string& name) const
{
    for (const auto& [key, value] : headers) {
        if (::strcasecmp(key.c_str(), name.c_str()) == 0) {
            return value;
        }
    }
    return {};
}

std::vector<std::string> CgiResponse::headerValues(const std::string& name) const
{
    std::vector<std::string> values;
    for (const auto& [key, value] : headers) {
        if (::strcasecmp(key.c_str(), name.c_str()) == 0) {
            values.push_back(value);
        }
    }
    return values;
}

std::map<std::string, std::string> cgiEnvironment(const std::string& method, const std::string& uri,
                                                  const std::string& body,
                                                  const std::map<std::string, std::string>& extra)
{
    const auto question = uri.find('?');
    std::map<std::string, std::string> environment = {
        {"GATEWAY_INTERFACE", "CGI/1.1"},
        {"SERVER_SOFTWARE", "cgi-fcgi"},
        {"SERVER_PROTOCOL", "HTTP/1.1"},
        {"SERVER_NAME", "localhost"},
        {"SERVER_PORT", "80"},
        {"REMOTE_ADDR", "127.0.0.1"},
        {"REQUEST_METHOD", method},
        {"REQUEST_URI", uri},
        {"SCRIPT_NAME", ""},
        {"PATH_INFO", uri.substr(0, question)},
        {"QUERY_STRING", question == std::string::npos ? "" : uri.substr(question + 1)},
        {"HTTP_HOST", "localhost"},
    };
    if (!body.empty()) {
        environment["CONTENT_LENGTH"] = std::to_string(body.size());
        environment["CONTENT_TYPE"] = "application/octet-stream";
    }
    for (const auto& [key, value] : extra) {
        environment[key] = value;
    }
    return environment;
}

CgiResponse runCgiFcgi(const fs::path& socket, const std::map<std::string, std::string>& environment,
                       const std::string& body, const fs::path& workDir,
                       std::chrono::milliseconds timeout)
{
    static std::atomic<int> counter{0};
    const std::string stem = "cgi-fcgi-" + std::to_string(counter++);
    const fs::path input = workDir / (stem + ".in");
    const fs::path output = workDir / (stem + ".out");
    const fs::path errors = workDir / (stem + ".err");
    writeFile(input, body);
    Fd stdinFd(::open(input.c_str(), O_RDONLY | O_CLOEXEC));
    if (!stdinFd) {
        throw std::runtime_error("cannot open " + input.string());
    }

    Child::Options options;
    options.argv = {"/usr/bin/cgi-fcgi", "-bind", "-connect", socket.string()};
    options.env = environment;
    options.fds = {{0, stdinFd.get()}};
    options.stdoutFile = output;
    options.stderrFile = errors;
    Child child(options);
    const auto status = child.wait(timeout);
    if (!status) {
        throw std::runtime_error("cgi-fcgi did not finish within the timeout");
    }
    if (*status != 0) {
        throw std::runtime_error("cgi-fcgi: " + describeStatus(*status) + ": " + readFile(errors));
    }

    CgiResponse response;
    response.stderrText = readFile(errors);
    const std::string text = readFile(output);
    const auto end = text.find("\r\n\r\n");
    if (end == std::string::npos) {
        throw std::runtime_error("cgi-fcgi printed no CGI head: " + text);
    }
    response.body = text.substr(end + 4);
    response.status = 200;
    std::size_t position = 0;
    while (position < end) {
        const auto lineEnd = text.find("\r\n", position);
        const std::string line = text.substr(position, lineEnd - position);
        position = lineEnd + 2;
        const auto colon = line.find(':');
        if (colon == std::string::npos) {
            throw std::runtime_error("cgi-fcgi printed a bad header line: " + line);
        }
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        const std::string name = line.substr(0, colon);
        if (::strcasecmp(name.c_str(), "Status") == 0) {
            response.status = std::stoi(value.substr(0, 3));
        } else {
            response.headers.emplace_back(name, value);
        }
    }
    return response;
}

}  // namespace pyfpm::test
