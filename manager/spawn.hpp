// Starting one worker process: what it gets (argv, environment, descriptors)
// and how (fork and exec through Boost.Process, set up for supervision).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "manager/isolation.hpp"
#include "manager/pool_config.hpp"
#include "manager/unique_fd.hpp"

namespace pyfpm::manager {

using Environment = std::map<std::string, std::string>;

// The program every worker of `pool` runs: pyfpm-worker (`workerBinary`)
// for app and scripts pools; command[0] for a command pool.
std::filesystem::path workerProgram(const PoolConfig& pool, const std::filesystem::path& workerBinary);

// True when the pool's workers keep worker_contract.hpp (a notify pipe on
// fd 3, a scoreboard on fd 4): pyfpm-worker's do; a command pool's program
// (PoolKind::Command), any FastCGI responder, gets fds 0, 1 and 2 only.
bool keepsWorkerContract(const PoolConfig& pool);

// The command line after argv[0] that every worker of `pool` shares. For a
// command pool: command[1..], as written. Otherwise in pyfpm-worker's syntax:
//   (--app APP | --scripts ROOT [--script-extension EXT]...)
//   [--python-path DIR]... [--virtualenv DIR] --pool NAME
//   --notify-fd 3 [--max-rss BYTES] [--slowlog FILE]
// One --python-path per entry, in order; --max-rss when max_rss > 0,
// --slowlog when slowlog_timeout > 0 and a slowlog file is set.
std::vector<std::string> workerArguments(const PoolConfig& pool);

// What differs per worker, appended to workerArguments():
//   --scoreboard-fd 4 --slot SLOT [--max-requests LIMIT]
// --max-requests when `requestLimit` > 0 (recycling.hpp requestLimitFor).
std::vector<std::string> workerSlotArguments(std::size_t slot, long requestLimit);

// The worker's environment. With clear_env (php-fpm's default): the pool's
// `env` plus PATH (the daemon's, or /usr/local/bin:/usr/bin:/bin when it
// has none, unless `env` sets PATH). Without clear_env: `daemon` with
// `env` added or replacing.
Environment workerEnvironment(const PoolConfig& pool, const Environment& daemon);

// The daemon's own environment (environ(7)).
Environment currentEnvironment();

struct SpawnRequest {
    std::filesystem::path binary;     // absolute; becomes argv[0]
    std::vector<std::string> arguments;
    Environment environment;          // exactly what the worker sees
    std::filesystem::path workingDir; // empty: the daemon's
    int listenFd = -1;                // the pool socket; any value, even 0
    // A notify pipe on kNotifyFd (pyfpm-worker). False for a command pool's
    // program: it then gets exactly descriptors 0, 1 and 2, and
    // scoreboardFd must be -1.
    bool notifyPipe = true;
    // The pool's scoreboard memfd, placed on kScoreboardFd; -1: the worker
    // gets no descriptor 4.
    int scoreboardFd = -1;
    Isolation isolation;              // resolved names (isolation.hpp)
};

struct SpawnedWorker {
    // The child, or -1 when none exists (fork(2) or pipe2(2) failed). A pid
    // with a non-empty `error` is a child whose exec failed: it has exited
    // or is about to, and the Reaper collects it like any other worker.
    pid_t pid = -1;
    // Read ends, close-on-exec, blocking (LineReader changes that). The
    // worker holds the notify write end on fd 3 (worker_contract.hpp) and
    // the output write end on fds 1 and 2. notifyRead is empty without
    // SpawnRequest::notifyPipe.
    UniqueFd notifyRead;
    UniqueFd outputRead;
    // Empty on success; otherwise a log-ready reason such as
    // "execve(2) /usr/libexec/pyfpm/pyfpm-worker: No such file or directory".
    std::string error;
};

// Forks and execs a worker on the calling thread, which must be the event
// loop's (it is the parent PR_SET_PDEATHSIG watches). Between fork and exec
// the child resets every signal disposition and unblocks all signals, puts
// the descriptors in place (0 listen socket, 1 and 2 output pipe, 3 notify
// pipe and 4 scoreboard when asked for) and marks every other descriptor
// close-on-exec, moves into its own process group (so a terminal's SIGINT
// reaches the daemon only, which then stops its workers in order, and a
// SIGKILL to the group also ends what a command pool's program forked,
// such as fcgiwrap's CGI scripts), applies the isolation
// (limits, umask, groups, gid, uid), asks for SIGTERM when the daemon dies
// (after the uid switch, which clears that request) and exits at once if
// the daemon already has, and enters workingDir as the worker's user.
// When one of those steps fails the child writes "pyfpm-worker setup: ..."
// to its stderr (the output pipe, once in place) and exits 127.
//
// The child is detached from Boost.Process at once and never waited for
// here: the Reaper is the only waiter.
SpawnedWorker spawnWorker(const SpawnRequest& request);

}  // namespace pyfpm::manager
