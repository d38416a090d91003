#include "src/pyfpmctl/run.hpp"

#include <chrono>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "src/pyfpm/config/loader.hpp"
#include "src/pyfpmctl/client.hpp"
#include "src/pyfpmctl/socket_path.hpp"
#include "src/pyfpmctl/status_table.hpp"

namespace pyfpm::ctl {

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Long enough for a restart or reload (new workers get 30 s to become
// ready); a daemon that says nothing for this long is reported, not waited
// for forever.
constexpr auto kAnswerTimeout = 120s;
// stop: after the answer, how long to wait for the daemon to exit beyond
// the requested timeout (workers get SIGTERM, then SIGKILL).
constexpr auto kExitGrace = 60s;

ExitCode checkConfig(const Options& options, std::ostream& out, std::ostream& err)
{
    const auto loaded = config::load(options.request.file);
    std::vector<std::string> errors;
    for (const auto& error : loaded.errors) errors.push_back(error.toString());
    if (options.json) {
        json answer{{"ok", errors.empty()}, {"file", options.request.file.string()}};
        if (!errors.empty()) {
            answer.update({{"error", "failed"}, {"message", "the file is invalid"}, {"errors", errors}});
        }
        out << answer.dump() << '\n';
    } else if (errors.empty()) {
        out << options.request.file.string() << ": ok\n";
    } else {
        for (const auto& error : errors) err << error << '\n';
    }
    return errors.empty() ? ExitCode::Ok : ExitCode::Failed;
}

ExitCode exitFor(const json& answer)
{
    if (answer.value("ok", false)) {
        return ExitCode::Ok;
    }
    const auto code = control::errorCodeFromString(answer.value("error", std::string()));
    if (!code) {
        return ExitCode::Failed;
    }
    switch (*code) {
    case control::ErrorCode::BadRequest:
        return ExitCode::Usage;
    case control::ErrorCode::UnknownPool:
        return ExitCode::UnknownPool;
    case control::ErrorCode::Failed:
        return ExitCode::Failed;
    }
    return ExitCode::Failed;
}

std::string pidList(const json& answer)
{
    std::vector<std::string> pids;
    for (const auto& pid : answer.value("pids", json::array())) pids.push_back(pid.dump());
    return pids.empty() ? "none yet" : fmt::format("{}", fmt::join(pids, ", "));
}

void printSuccess(const Options& options, const json& answer, std::ostream& out)
{
    const std::string pool = answer.value("pool", options.request.pool);
    switch (options.request.command) {
    case control::Command::Status:
        out << formatStatus(answer, options.workers);
        return;
    case control::Command::Scale:
        out << fmt::format("pool {}: max_children {} until the next reload; workers: {}\n", pool,
                           answer.value("max_children", options.request.workers), pidList(answer));
        return;
    case control::Command::Restart:
        out << fmt::format("pool {}: restarted; workers: {}\n", pool, pidList(answer));
        return;
    case control::Command::Reload:
        out << "reloaded\n";
        return;
    case control::Command::Stop:
        out << "stopped\n";
        return;
    case control::Command::ReopenLogs:
        out << "logs reopened\n";
        return;
    case control::Command::CheckConfig:
        return;
    }
}

}  // namespace

ExitCode run(const Options& options, std::ostream& out, std::ostream& err)
{
    if (options.request.command == control::Command::CheckConfig) {
        return checkConfig(options, out, err);
    }
    std::filesystem::path socket = options.socket;
    if (socket.empty()) {
        auto found = controlSocketOf(options.config);
        if (auto* message = std::get_if<std::string>(&found)) {
            err << "pyfpmctl: " << *message << '\n';
            return ExitCode::NotRunning;
        }
        socket = std::get<std::filesystem::path>(found);
    }

    auto opened = Connection::open(socket);
    if (auto* error = std::get_if<ClientError>(&opened)) {
        err << "pyfpmctl: " << error->message << '\n';
        return error->exit;
    }
    auto& connection = std::get<Connection>(opened);
    ClientError error;
    const auto answer =
        connection.ask(options.request.toJson(), std::chrono::steady_clock::now() + kAnswerTimeout, error);
    if (!answer) {
        err << "pyfpmctl: " << error.message << '\n';
        return error.exit;
    }
    const ExitCode exit = exitFor(*answer);
    if (exit == ExitCode::Ok && options.request.command == control::Command::Stop) {
        // The daemon answered before stopping; it closes the connection
        // when it exits.
        const auto timeout = options.request.timeout.value_or(std::chrono::milliseconds(0));
        if (!connection.waitForClose(std::chrono::steady_clock::now() + timeout + kExitGrace)) {
            err << "pyfpmctl: the daemon is stopping but has not exited yet\n";
            return ExitCode::NoAnswer;
        }
    }
    if (options.json) {
        out << answer->dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
        return exit;
    }
    if (exit == ExitCode::Ok) {
        printSuccess(options, *answer, out);
        return exit;
    }
    err << "pyfpmctl: " << answer->value("message", std::string("the command failed")) << '\n';
    for (const auto& line : answer->value("errors", json::array())) {
        err << line.get<std::string>() << '\n';
    }
    return exit;
}

}  // namespace pyfpm::ctl
