// Python.h first, as CPython asks (it sets feature macros).
#include "src/worker/py_ref.hpp"

#include "src/worker/slowlog.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <system_error>

#include "manager/worker_contract.hpp"

// Exported by libpython (PyAPI_FUNC) but declared only in CPython's internal
// headers (internal/pycore_traceback.h), which need Py_BUILD_CORE.
// faulthandler's signal handlers call it: it reads the frames of `tstate`
// and writes "Stack (most recent call first):" and one line per frame with
// write(2), without the GIL and without allocating.
extern "C" void _Py_DumpTraceback(int fd, PyThreadState* tstate);

namespace pyfpm::worker {

namespace {

// Lock-free atomics: safe to read from a signal handler.
std::atomic<int> g_fd{-1};
std::atomic<PyThreadState*> g_mainState{nullptr};
std::atomic<pid_t> g_mainTid{0};
static_assert(std::atomic<PyThreadState*>::is_always_lock_free);
static_assert(std::atomic<int>::is_always_lock_free);

void onSlowlogSignal(int signo)
{
    const int savedErrno = errno;
    PyThreadState* state = g_mainState.load();
    const int fd = g_fd.load();
    const pid_t mainTid = g_mainTid.load();
    if (state != nullptr && fd >= 0) {
        if (::gettid() != mainTid) {
            ::tgkill(::getpid(), mainTid, signo);
        } else {
            // The handler runs with SIGUSR2 blocked (no SA_NODEFER), so it
            // never nests on this thread.
            _Py_DumpTraceback(fd, state);
            [[maybe_unused]] const auto written = ::write(fd, "\n", 1);
        }
    }
    errno = savedErrno;
}

}  // namespace

int openSlowlog(const std::string& path)
{
    return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

SlowlogHandler::SlowlogHandler(int fd)
{
    g_mainTid.store(::gettid());
    g_mainState.store(fd >= 0 ? PyThreadState_Get() : nullptr);
    g_fd.store(fd);

    struct sigaction action = {};
    action.sa_handler = onSlowlogSignal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (::sigaction(manager::contract::kSlowlogSignal, &action, nullptr) != 0) {
        throw std::system_error(errno, std::generic_category(), "sigaction(2) SIGUSR2");
    }
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, manager::contract::kSlowlogSignal);
    ::sigprocmask(SIG_UNBLOCK, &unblock, nullptr);
}

SlowlogHandler::~SlowlogHandler()
{
    g_mainState.store(nullptr);
    const int fd = g_fd.exchange(-1);
    if (fd >= 0) {
        ::close(fd);
    }
}

}  // namespace pyfpm::worker
