// How pyfpm-worker starts, refuses to start, and stops: the exit codes and
// messages of manager/worker_contract.hpp, the readiness notification, and
// graceful stops on SIGTERM.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <string>
#include <thread>

#include "fcgi/client.hpp"
#include "manager/listen_queue.hpp"
#include "manager/worker_contract.hpp"
#include "test/support/fcgi_client.hpp"
#include "test/support/process.hpp"
#include "test/worker/raw_fcgi.hpp"
#include "test/worker/worker_process.hpp"

namespace pyfpm::test {
namespace {

namespace contract = manager::contract;

using contract::WorkerExit;

int exitCode(WorkerExit code)
{
    return static_cast<int>(code);
}

// Waits for the worker to exit; the raw wait status (or -1 on timeout).
int waitStatus(Child& child, std::chrono::milliseconds timeout = 10s)
{
    return child.wait(timeout).value_or(-1);
}

bool exitedWith(int status, WorkerExit code)
{
    return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == exitCode(code);
}

std::string firstLine(const std::string& text)
{
    return text.substr(0, text.find('\n'));
}

WorkerProcess probeWorker()
{
    return WorkerProcess("probe:app", {WorkerProcess::testApps().string()});
}

TEST(WorkerImport, exception_while_importing_exits_3_with_a_one_line_reason_then_the_traceback)
{
    WorkerProcess worker("broken_import:app", {WorkerProcess::testApps().string()});
    EXPECT_FALSE(worker.waitReady());
    const int status = waitStatus(worker.process());
    EXPECT_TRUE(exitedWith(status, WorkerExit::AppImport)) << describeStatus(status);
    const std::string log = worker.stderrLog();
    EXPECT_EQ(firstLine(log),
              "pyfpm-worker: cannot import app \"broken_import:app\": RuntimeError: broken_import refuses to load");
    EXPECT_NE(log.find("Traceback (most recent call last)"), std::string::npos) << log;
}

TEST(WorkerImport, missing_module_exits_3_with_exactly_one_line)
{
    WorkerProcess worker("no_such_module:app", {WorkerProcess::testApps().string()});
    EXPECT_FALSE(worker.waitReady());
    const int status = waitStatus(worker.process());
    EXPECT_TRUE(exitedWith(status, WorkerExit::AppImport)) << describeStatus(status);
    EXPECT_EQ(worker.stderrLog(),
              "pyfpm-worker: cannot import app \"no_such_module:app\": ModuleNotFoundError: "
              "No module named 'no_such_module'\n");
}

TEST(WorkerImport, missing_attribute_exits_3)
{
    WorkerProcess worker("probe:nope", {WorkerProcess::testApps().string()});
    const int status = waitStatus(worker.process());
    EXPECT_TRUE(exitedWith(status, WorkerExit::AppImport)) << describeStatus(status);
    EXPECT_EQ(firstLine(worker.stderrLog()),
              "pyfpm-worker: cannot import app \"probe:nope\": AttributeError: module 'probe' has no attribute 'nope'");
}

TEST(WorkerImport, object_that_is_not_callable_exits_3)
{
    WorkerProcess worker("not_callable:app", {WorkerProcess::testApps().string()});
    const int status = waitStatus(worker.process());
    EXPECT_TRUE(exitedWith(status, WorkerExit::AppImport)) << describeStatus(status);
    EXPECT_EQ(firstLine(worker.stderrLog()),
              "pyfpm-worker: cannot import app \"not_callable:app\": not_callable:app is a int, not a callable");
}

TEST(WorkerImport, python_path_entries_come_first_in_order)
{
    WorkerProcess worker("app:app", {(WorkerProcess::examples() / "hello").string(),
                                     (WorkerProcess::examples() / "flask").string()});
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    EXPECT_EQ(fcgiRequest(worker.socket(), cgiParams("GET", "/")).body, "Hello, world!");
}

TEST(WorkerImport, virtualenv_site_packages_and_interpreter_are_used)
{
    TempDir dir;
    const auto venv = dir / "venv";
    Child::Options create;
    create.argv = {"/usr/bin/python3", "-m", "venv", "--without-pip", venv.string()};
    Child creator(create);
    const auto created = creator.wait(60s);
    ASSERT_TRUE(created && *created == 0) << (created ? describeStatus(*created) : "timeout");
    std::filesystem::path sitePackages;
    for (const auto& entry : std::filesystem::directory_iterator(venv / "lib")) {
        sitePackages = entry.path() / "site-packages";  // lib/python3.X/site-packages
    }
    ASSERT_TRUE(std::filesystem::is_directory(sitePackages)) << sitePackages;
    writeFile(sitePackages / "venv_only.py",
              "import sys\n"
              "def app(environ, start_response):\n"
              "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
              "    return [sys.executable.encode()]\n");
    WorkerProcess worker("venv_only:app", {}, {}, {"--virtualenv", venv.string()});
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    EXPECT_EQ(fcgiRequest(worker.socket(), cgiParams("GET", "/")).body, (venv / "bin" / "python3").string());
}

TEST(WorkerStart, descriptor_0_that_is_not_a_listening_socket_exits_4)
{
    TempDir dir;
    Fd devNull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    Fd connected(pair[0]);
    Fd other(pair[1]);
    for (int fd : {devNull.get(), connected.get()}) {
        Child::Options options;
        options.argv = {workerBinary().string(), "--app", "probe:app"};
        options.fds = {{0, fd}};
        options.stderrFile = dir / "stderr.log";
        Child worker(options);
        const int status = waitStatus(worker);
        EXPECT_TRUE(exitedWith(status, WorkerExit::NotASocket)) << describeStatus(status);
    }
    EXPECT_NE(readFile(dir / "stderr.log").find("descriptor 0 is not a socket"), std::string::npos);
    EXPECT_NE(readFile(dir / "stderr.log").find("descriptor 0 is a socket but not listening"), std::string::npos);
}

TEST(WorkerStart, bad_command_line_exits_2)
{
    TempDir dir;
    for (const auto& arguments : std::vector<std::vector<std::string>>{
             {}, {"--app", "no-colon"}, {"--app", "mod:"}, {"--app", "a:b", "--bogus"}}) {
        Child::Options options;
        options.argv = {workerBinary().string()};
        options.stderrFile = dir / "stderr.log";
        options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
        Child worker(options);
        const int status = waitStatus(worker);
        EXPECT_TRUE(exitedWith(status, WorkerExit::Usage)) << describeStatus(status);
    }
}

TEST(WorkerStop, sigterm_while_idle_exits_0)
{
    WorkerProcess worker = probeWorker();
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    EXPECT_EQ(fcgiRequest(worker.socket(), cgiParams("GET", "/scheme")).status, 200);
    worker.process().signal(SIGTERM);
    const int status = waitStatus(worker.process(), 5s);
    EXPECT_TRUE(exitedWith(status, WorkerExit::Clean)) << describeStatus(status) << worker.stderrLog();
    EXPECT_NE(worker.stderrLog().find("exiting after 1 requests (stop signal)"), std::string::npos)
        << worker.stderrLog();
}

TEST(WorkerStop, sigterm_right_after_ready_exits_0)
{
    WorkerProcess worker = probeWorker();
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    worker.process().signal(SIGTERM);
    const int status = waitStatus(worker.process(), 5s);
    EXPECT_TRUE(exitedWith(status, WorkerExit::Clean)) << describeStatus(status);
}

TEST(WorkerStop, sigterm_between_accept_and_the_first_byte_still_serves_that_request)
{
    // A recycle or reload stops a worker at any moment; a connection it has
    // already taken from the queue must get its answer.
    WorkerProcess worker = probeWorker();
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    Fd connection = connectUnix(worker.socket());
    ASSERT_TRUE(connection);
    ASSERT_TRUE(waitUntil([&] {
        const auto queue = pyfpm::manager::measureListenQueue(worker.listenFd());
        return queue && queue->length == 0;
    })) << "the worker did not accept";
    worker.process().signal(SIGTERM);
    // No signal says the worker has seen the stop; give it the time to, so
    // the request arrives after it (the case that used to drop it).
    std::this_thread::sleep_for(200ms);

    fcgi::ClientRequest request(1);
    fcgi::ParamsBuilder params;
    for (const auto& [name, value] : cgiParams("GET", "/scheme")) params.add(name, value);
    std::string out;
    request.appendBegin(out);
    request.appendParams(out, params);
    request.appendStdinEnd(out);
    ASSERT_EQ(::send(connection.get(), out.data(), out.size(), MSG_NOSIGNAL), static_cast<ssize_t>(out.size()))
        << "the worker closed the connection it had accepted";
    std::string response;
    char buf[4096];
    for (ssize_t n; (n = ::read(connection.get(), buf, sizeof buf)) > 0;) response.append(buf, static_cast<std::size_t>(n));
    request.feed(response);
    EXPECT_EQ(request.next().type, fcgi::ClientEvent::Type::Head) << response.size() << " bytes";
    EXPECT_EQ(request.head().status, 200);

    const int status = waitStatus(worker.process(), 5s);
    EXPECT_TRUE(exitedWith(status, WorkerExit::Clean)) << describeStatus(status) << worker.stderrLog();
}

TEST(WorkerStop, sigterm_during_a_slow_request_finishes_it_then_exits_0)
{
    WorkerProcess worker = probeWorker();
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    auto response = std::async(std::launch::async, [&] {
        return fcgiRequest(worker.socket(), cgiParams("GET", "/slow"), {}, 30s);
    });
    ASSERT_TRUE(waitUntil([&] { return std::filesystem::exists(worker.dir() / "slow-started"); }))
        << worker.stderrLog();
    worker.process().signal(SIGTERM);
    // The request is still in the application; the worker must wait for it.
    EXPECT_TRUE(worker.process().running());
    writeFile(worker.dir() / "slow-release", "go");
    const FcgiResponse done = response.get();
    EXPECT_EQ(done.status, 200);
    EXPECT_EQ(done.body, "slow done");
    const int status = waitStatus(worker.process(), 5s);
    EXPECT_TRUE(exitedWith(status, WorkerExit::Clean)) << describeStatus(status) << worker.stderrLog();
}

TEST(WorkerStop, sigterm_while_a_kept_connection_is_idle_exits_0)
{
    WorkerProcess worker = probeWorker();
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    Fd kept = connectUnix(worker.socket());
    ASSERT_TRUE(kept);
    fcgi::ClientRequest request(1, fcgi::kKeepConn);
    sendAll(kept.get(), encodeRequest(request, cgiParams("GET", "/scheme"), {}));
    EXPECT_EQ(finishOn(kept.get(), request), "http");
    // The worker now waits for the next request on this connection.
    worker.process().signal(SIGTERM);
    const int status = waitStatus(worker.process(), 5s);
    EXPECT_TRUE(exitedWith(status, WorkerExit::Clean)) << describeStatus(status);
}

TEST(WorkerStop, sigterm_with_a_connected_but_silent_client_exits_0)
{
    WorkerProcess worker = probeWorker();
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    Fd silent = connectUnix(worker.socket());
    ASSERT_TRUE(silent);
    worker.process().signal(SIGTERM);
    const int status = waitStatus(worker.process(), 5s);
    EXPECT_TRUE(exitedWith(status, WorkerExit::Clean)) << describeStatus(status);
}

TEST(WorkerStop, shut_down_listening_socket_exits_0)
{
    WorkerProcess worker = probeWorker();
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    worker.shutdownListener();
    const int status = waitStatus(worker.process(), 5s);
    EXPECT_TRUE(exitedWith(status, WorkerExit::Clean)) << describeStatus(status);
    EXPECT_NE(worker.stderrLog().find("listening socket closed"), std::string::npos) << worker.stderrLog();
}

}  // namespace
}  // namespace pyfpm::test
