// Pure decisions of the manager's apply layer: the emergency restart
// counter, the reload plan, request_timeout and slowlog verdicts, the
// slowlog's wording, the per-worker command line, isolation resolution.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <regex>

#include <gtest/gtest.h>

#include "manager/emergency.hpp"
#include "manager/isolation.hpp"
#include "manager/pool_state.hpp"
#include "manager/reload_plan.hpp"
#include "manager/request_watch.hpp"
#include "manager/slowlog.hpp"
#include "manager/spawn.hpp"
#include "test/support/process.hpp"

namespace pyfpm::manager {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---- emergency_restart_threshold / _interval

TEST(EmergencyRestart, fires_when_threshold_crashes_fall_within_the_interval)
{
    EmergencyRestart counter(3, 10s);
    const Clock::time_point t0{};
    EXPECT_FALSE(counter.record(t0));
    EXPECT_FALSE(counter.record(t0 + 4s));
    EXPECT_EQ(counter.recent(t0 + 5s), 2);
    EXPECT_TRUE(counter.record(t0 + 10s)) << "both ends of the interval count";
    EXPECT_EQ(counter.recent(t0 + 10s), 0) << "a restart starts the count over";
    EXPECT_FALSE(counter.record(t0 + 11s));
    EXPECT_FALSE(counter.record(t0 + 12s));
    EXPECT_TRUE(counter.record(t0 + 13s));
}

TEST(EmergencyRestart, crashes_spread_wider_than_the_interval_never_fire)
{
    EmergencyRestart counter(3, 10s);
    const Clock::time_point t0{};
    for (int i = 0; i < 20; ++i) {
        EXPECT_FALSE(counter.record(t0 + std::chrono::seconds(6 * i))) << "crash " << i;
    }
    EXPECT_EQ(counter.recent(t0 + 114s), 2);
    EXPECT_EQ(counter.recent(t0 + 200s), 0);
}

TEST(EmergencyRestart, threshold_zero_is_off)
{
    EmergencyRestart counter(0, 60s);
    for (int i = 0; i < 100; ++i) {
        EXPECT_FALSE(counter.record(Clock::time_point{} + std::chrono::milliseconds(i)));
    }
}

TEST(EmergencyRestart, threshold_one_fires_on_every_crash)
{
    EmergencyRestart counter(1, 60s);
    EXPECT_TRUE(counter.record(Clock::time_point{}));
    EXPECT_TRUE(counter.record(Clock::time_point{} + 1ms));
}

TEST(EmergencyRestart, only_sigsegv_and_sigbus_count)
{
    EXPECT_TRUE(isEmergencyCrash(SIGSEGV));
    EXPECT_TRUE(isEmergencyCrash(SIGBUS | WCOREFLAG));
    EXPECT_FALSE(isEmergencyCrash(SIGKILL));
    EXPECT_FALSE(isEmergencyCrash(SIGABRT));
    EXPECT_FALSE(isEmergencyCrash(W_EXITCODE(139, 0))) << "a shell's 128+11 is an exit, not a crash";
}

// ---- reload plan

PoolConfig named(const std::string& name, const std::string& app = "app:app")
{
    PoolConfig pool;
    pool.name = name;
    pool.app = app;
    pool.listen.path = "/run/pyfpm/" + name + ".sock";
    return pool;
}

TEST(ReloadPlan, sorts_pools_into_added_removed_changed_and_unchanged)
{
    PoolConfig changedEnv = named("b");
    changedEnv.env["MODE"] = "v2";
    PoolConfig changedSize = named("c");
    changedSize.max_children = 9;
    const ReloadPlan plan =
        planReload({named("a"), named("b"), named("c"), named("gone")}, {named("new"), changedEnv, named("a"), changedSize});
    EXPECT_TRUE(plan.errors.empty());
    ASSERT_EQ(plan.added.size(), 1u);
    EXPECT_EQ(plan.added[0].name, "new");
    EXPECT_EQ(plan.removed, std::vector<std::string>{"gone"});
    ASSERT_EQ(plan.changed.size(), 2u);
    EXPECT_EQ(plan.changed[0].name, "b");
    EXPECT_EQ(plan.changed[1].name, "c");
    EXPECT_EQ(plan.unchanged, std::vector<std::string>{"a"});
}

TEST(ReloadPlan, any_field_makes_a_pool_changed)
{
    PoolConfig base = named("a");
    PoolConfig other = base;
    EXPECT_TRUE(samePoolConfig(base, other));
    other.slowlog_timeout = 5s;
    EXPECT_FALSE(samePoolConfig(base, other));
    other = base;
    other.listen_mode = 0600;
    EXPECT_FALSE(samePoolConfig(base, other));
    other = base;
    other.python_path.push_back("/srv/lib");
    EXPECT_FALSE(samePoolConfig(base, other));
}

TEST(ReloadPlan, listen_addresses_compare_as_written)
{
    ListenAddress a;
    a.path = "/run/a.sock";
    ListenAddress b = a;
    EXPECT_TRUE(sameListenAddress(a, b));
    b.path = "/run/b.sock";
    EXPECT_FALSE(sameListenAddress(a, b));
    ListenAddress tcp;
    tcp.kind = ListenAddress::Kind::Tcp;
    tcp.host = "127.0.0.1";
    tcp.port = 9000;
    ListenAddress tcp2 = tcp;
    EXPECT_TRUE(sameListenAddress(tcp, tcp2));
    tcp2.port = 9001;
    EXPECT_FALSE(sameListenAddress(tcp, tcp2));
}

TEST(ReloadPlan, two_pools_with_one_name_are_refused_whole)
{
    const ReloadPlan plan = planReload({named("a")}, {named("b"), named("b")});
    EXPECT_EQ(plan.errors, std::vector<std::string>{"pool b is defined twice"});
    EXPECT_TRUE(plan.added.empty());
    EXPECT_TRUE(plan.removed.empty());
}

// ---- request_timeout and slowlog_timeout

SlotSnapshot busySince(std::int64_t startedMs)
{
    SlotSnapshot slot;
    slot.pid = 42;
    slot.state = SlotState::Busy;
    slot.requestStartedAtMs = startedMs;
    slot.method = "GET";
    slot.uri = "/report";
    return slot;
}

PoolConfig limits(std::chrono::milliseconds timeout, std::chrono::milliseconds slowlog)
{
    PoolConfig pool = named("web");
    pool.request_timeout = timeout;
    pool.slowlog_timeout = slowlog;
    return pool;
}

TEST(CheckRequest, only_busy_slots_are_checked)
{
    SlotSnapshot idle = busySince(0);
    idle.state = SlotState::Idle;
    const RequestCheck check = checkRequest(limits(1s, 1s), idle, 100'000, -1);
    EXPECT_FALSE(check.slow);
    EXPECT_FALSE(check.overdue);
}

TEST(CheckRequest, slow_at_slowlog_timeout_once_per_request)
{
    const PoolConfig pool = limits(10s, 2s);
    EXPECT_FALSE(checkRequest(pool, busySince(1000), 2999, -1).slow);
    const RequestCheck at = checkRequest(pool, busySince(1000), 3000, -1);
    EXPECT_TRUE(at.slow);
    EXPECT_EQ(at.elapsed, 2s);
    EXPECT_FALSE(at.overdue);
    EXPECT_FALSE(checkRequest(pool, busySince(1000), 9000, 1000).slow) << "this request is already reported";
    EXPECT_TRUE(checkRequest(pool, busySince(5000), 9000, 1000).slow) << "the next request is reported again";
}

TEST(CheckRequest, overdue_at_request_timeout)
{
    const PoolConfig pool = limits(10s, 0ms);
    EXPECT_FALSE(checkRequest(pool, busySince(0), 9999, -1).overdue);
    const RequestCheck check = checkRequest(pool, busySince(0), 10'000, -1);
    EXPECT_TRUE(check.overdue);
    EXPECT_FALSE(check.slow) << "slowlog_timeout 0 is off";
}

TEST(CheckRequest, zero_timeouts_are_off_and_a_clock_behind_the_worker_is_age_zero)
{
    const PoolConfig off = limits(0ms, 0ms);
    const RequestCheck check = checkRequest(off, busySince(0), 1'000'000'000, -1);
    EXPECT_FALSE(check.overdue);
    EXPECT_FALSE(check.slow);
    EXPECT_EQ(checkRequest(limits(1s, 1s), busySince(5000), 4999, -1).elapsed, 0ms);
}

// ---- slowlog

TEST(Slowlog, header_names_time_pool_pid_request_and_elapsed)
{
    const std::string header =
        slowlogHeader(std::chrono::system_clock::now(), "web", 4121, "GET", "/report", std::chrono::milliseconds(5200));
    EXPECT_TRUE(std::regex_match(header, std::regex("\\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\] "
                                                    "\\[pool web\\] pid 4121: GET /report running 5\\.2s; stack:\n")))
        << header;
}

TEST(Slowlog, appends_and_names_the_file_when_it_cannot)
{
    test::TempDir dir;
    EXPECT_EQ(appendToSlowlog(dir / "slow.log", "one\n"), "");
    EXPECT_EQ(appendToSlowlog(dir / "slow.log", "two\n"), "");
    EXPECT_EQ(test::readFile(dir / "slow.log"), "one\ntwo\n");
    EXPECT_EQ(appendToSlowlog(dir / "missing/slow.log", "x"),
              "open(2) " + (dir / "missing/slow.log").string() + ": No such file or directory");
}

// ---- the worker's command line

TEST(WorkerArguments, recycling_and_slowlog_flags_when_configured)
{
    PoolConfig pool = named("web");
    pool.max_rss = 268'435'456;
    pool.slowlog_timeout = 5s;
    pool.slowlog = "/var/log/pyfpm/web.slow.log";
    EXPECT_EQ(workerArguments(pool),
              (std::vector<std::string>{"--app", "app:app", "--pool", "web", "--notify-fd", "3", "--max-rss",
                                        "268435456", "--slowlog", "/var/log/pyfpm/web.slow.log"}));
    pool.slowlog_timeout = 0ms;
    pool.max_rss = 0;
    EXPECT_EQ(workerArguments(pool),
              (std::vector<std::string>{"--app", "app:app", "--pool", "web", "--notify-fd", "3"}));
}

TEST(WorkerArguments, per_worker_slot_and_request_limit)
{
    EXPECT_EQ(workerSlotArguments(7, 0), (std::vector<std::string>{"--scoreboard-fd", "4", "--slot", "7"}));
    EXPECT_EQ(workerSlotArguments(0, 1003),
              (std::vector<std::string>{"--scoreboard-fd", "4", "--slot", "0", "--max-requests", "1003"}));
}

// ---- isolation

TEST(Isolation, limits_and_umask_resolve_without_root)
{
    PoolConfig pool = named("web");
    pool.rlimit_files = 4096;
    pool.rlimit_core = PoolConfig::kUnlimited;
    pool.umask = 027;
    pool.user = "nobody";
    const Isolation isolation = resolveIsolation(pool, false);
    EXPECT_EQ(isolation.rlimitFiles, rlim_t{4096});
    EXPECT_EQ(isolation.rlimitCore, RLIM_INFINITY);
    EXPECT_EQ(isolation.umask, mode_t{027});
    EXPECT_FALSE(isolation.uid.has_value()) << "user applies only when the daemon runs as root";
    EXPECT_FALSE(isolation.gid.has_value());

    const Isolation unchanged = resolveIsolation(named("web"), false);
    EXPECT_FALSE(unchanged.rlimitFiles.has_value());
    EXPECT_FALSE(unchanged.rlimitCore.has_value());
    EXPECT_FALSE(unchanged.umask.has_value());
}

TEST(Isolation, user_resolves_to_its_ids_and_groups_as_root)
{
    PoolConfig pool = named("web");
    pool.user = "nobody";
    const Isolation isolation = resolveIsolation(pool, true);
    ASSERT_TRUE(isolation.uid.has_value());
    EXPECT_EQ(*isolation.uid, 65534u);
    EXPECT_EQ(isolation.gid, gid_t{65534}) << "the user's primary group when `group` is not set";
    EXPECT_EQ(isolation.groups, std::vector<gid_t>{65534});
    EXPECT_FALSE(runsWorkersAsRoot(pool, true));
    EXPECT_TRUE(runsWorkersAsRoot(named("web"), true));
    EXPECT_FALSE(runsWorkersAsRoot(named("web"), false));
}

TEST(Isolation, unknown_names_are_errors_naming_pool_and_key)
{
    PoolConfig pool = named("web");
    pool.user = "no-such-user-pyfpm";
    try {
        resolveIsolation(pool, true);
        FAIL() << "expected an IsolationError";
    } catch (const IsolationError& e) {
        EXPECT_EQ(std::string(e.what()), "pool web: user 'no-such-user-pyfpm' does not exist");
    }
    pool = named("web");
    pool.listen_group = "no-such-group-pyfpm";
    try {
        resolveSocketOwner(pool, true);
        FAIL() << "expected an IsolationError";
    } catch (const IsolationError& e) {
        EXPECT_EQ(std::string(e.what()), "pool web: listen_group 'no-such-group-pyfpm' does not exist");
    }
    EXPECT_TRUE(resolveSocketOwner(pool, false).empty()) << "not root: not looked up at all";
}

// ---- pool state

TEST(PoolState, an_ondemand_pool_without_workers_is_running)
{
    EXPECT_EQ(derivePoolState({.stopping = false, .liveWorkers = 0, .readyWorkers = 0, .startFailures = 0,
                               .scalesToZero = true}),
              PoolState::Running);
    EXPECT_EQ(derivePoolState({.stopping = false, .liveWorkers = 1, .readyWorkers = 0, .startFailures = 2,
                               .scalesToZero = true}),
              PoolState::Failing)
        << "failing still wins";
    EXPECT_EQ(derivePoolState({.stopping = true, .liveWorkers = 0, .readyWorkers = 0, .startFailures = 0,
                               .scalesToZero = true}),
              PoolState::Stopped);
}

}  // namespace
}  // namespace pyfpm::manager
