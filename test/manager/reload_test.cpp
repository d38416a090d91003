// Supervisor::reload with real fake_worker processes: unchanged pools keep
// their workers, changed pools switch to new workers on the same socket
// without a refused or failed connection, removed pools drain and their
// socket goes, and a changed pool whose new workers fail keeps the old ones.
#include <sys/stat.h>

#include <chrono>
#include <optional>
#include <set>

#include <gtest/gtest.h>

#include "test/manager/supervisor_fixture.hpp"

namespace pyfpm::manager {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::field;
using testing::HeldRequest;
using testing::holdRequest;
using testing::pidsOf;
using testing::processGone;

ino_t inodeOf(const fs::path& path)
{
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

mode_t modeOf(const fs::path& path)
{
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

class ReloadTest : public testing::SupervisorFixture {
protected:
    // Starts the reload; the errors land in `errors` once done() ran.
    void reload(const std::vector<PoolConfig>& pools)
    {
        errors.reset();
        supervisor->reload(pools, [this](std::vector<std::string> result) { errors = std::move(result); });
        EXPECT_FALSE(errors.has_value()) << "done runs from the loop, not inside reload()";
    }
    bool reloaded() const { return errors.has_value(); }

    bool allGone(const std::set<pid_t>& pids) const
    {
        return std::all_of(pids.begin(), pids.end(), [](pid_t pid) { return processGone(pid); });
    }

    std::optional<std::vector<std::string>> errors;
};

TEST_F(ReloadTest, changed_pool_switches_to_new_workers_on_the_same_socket_without_a_failed_connection)
{
    const PoolConfig a = pool("a", "hold", 2);
    PoolConfig b = pool("b", "hold", 2);
    start({a, b});
    ASSERT_TRUE(runUntil([&] { return settled("a", 2) && settled("b", 2); }));
    const std::set<pid_t> aPids = pidsOf(status("a"));
    const std::set<pid_t> oldB = pidsOf(status("b"));
    const ino_t socketInode = inodeOf(socketOf("b"));

    // An old worker busy across the switch finishes its request.
    HeldRequest inFlight(socketOf("b"), "GET", "/long");
    ASSERT_TRUE(runUntil([&] { return inFlight.answered(); }));
    EXPECT_EQ(field(inFlight.answer(), "FAKE_VALUE"), "from-b");

    b.env["FAKE_VALUE"] = "from-b-v2";
    b.listen_mode = 0600;
    reload({a, b});
    int failed = 0;
    int served = 0;
    std::set<std::string> values;
    const auto oneRequest = [&] {
        const std::string answer = holdRequest(socketOf("b"));
        answer.empty() ? ++failed : ++served;
        values.insert(field(answer, "FAKE_VALUE"));
    };
    ASSERT_TRUE(runUntil([&] {
        oneRequest();
        return reloaded();
    }));
    EXPECT_EQ(*errors, std::vector<std::string>{});
    const std::set<pid_t> newB = pidsOf(status("b"));
    for (const pid_t pid : newB) {
        EXPECT_EQ(oldB.count(pid), 0u) << "status() answers for the new pool once it switched";
    }
    EXPECT_EQ(status("b").readyWorkers, 2);

    // The old workers leave as their requests end; connections keep working.
    runFor(200ms);
    EXPECT_FALSE(inFlight.closedByWorker()) << "the in-flight request is not cut off";
    inFlight.close();
    ASSERT_TRUE(runUntil([&] {
        oneRequest();
        return allGone(oldB);
    }));
    for (int i = 0; i < 20; ++i) {
        oneRequest();
    }
    EXPECT_EQ(failed, 0) << served << " served";
    EXPECT_EQ(field(holdRequest(socketOf("b")), "FAKE_VALUE"), "from-b-v2");
    EXPECT_EQ(inodeOf(socketOf("b")), socketInode) << "the same socket, never re-created";
    EXPECT_EQ(modeOf(socketOf("b")), 0600u) << "the new listen_mode, applied at the switch";
    EXPECT_EQ(pidsOf(status("a")), aPids) << "the unchanged pool keeps its workers";
    EXPECT_EQ(supervisor->poolNames(), (std::vector<std::string>{"a", "b"}));
    EXPECT_TRUE(log.contains("^\\[pool b\\] 2 new workers ready \\([0-9, ]+\\); the old ones \\([0-9, ]+\\) finish "
                             "their requests and exit$"));
}

TEST_F(ReloadTest, removed_pool_drains_its_requests_and_then_its_socket_goes)
{
    const PoolConfig a = pool("a", "hold", 1);
    start({a, pool("b", "hold", 1)});
    ASSERT_TRUE(runUntil([&] { return settled("a", 1) && settled("b", 1); }));
    const std::set<pid_t> oldB = pidsOf(status("b"));
    HeldRequest inFlight(socketOf("b"), "GET", "/long");
    ASSERT_TRUE(runUntil([&] { return inFlight.answered(); }));

    reload({a});
    ASSERT_TRUE(runUntil([&] { return reloaded(); }));
    EXPECT_EQ(*errors, std::vector<std::string>{});
    EXPECT_EQ(supervisor->poolNames(), std::vector<std::string>{"a"});
    EXPECT_FALSE(supervisor->poolAvailable("b"));
    EXPECT_EQ(status("b").state, PoolState::Stopping) << "a draining pool still answers status()";

    runFor(200ms);
    EXPECT_FALSE(inFlight.closedByWorker()) << "draining: the current request finishes";
    EXPECT_TRUE(fs::exists(socketOf("b")));
    inFlight.close();
    ASSERT_TRUE(runUntil([&] { return !fs::exists(socketOf("b")) && allGone(oldB); }));
    ASSERT_TRUE(runUntil([&] {
        try {
            status("b");
            return false;
        } catch (const std::out_of_range&) {
            return true;
        }
    })) << "gone once drained";
    EXPECT_FALSE(holdRequest(socketOf("a")).empty());
}

TEST_F(ReloadTest, added_pool_starts_and_serves)
{
    const PoolConfig a = pool("a", "hold", 1);
    start({a});
    ASSERT_TRUE(runUntil([&] { return settled("a", 1); }));
    const std::set<pid_t> aPids = pidsOf(status("a"));
    reload({a, pool("c", "hold", 2)});
    ASSERT_TRUE(runUntil([&] { return reloaded() && settled("c", 2); }));
    EXPECT_EQ(*errors, std::vector<std::string>{});
    EXPECT_EQ(field(holdRequest(socketOf("c")), "pool"), "c");
    EXPECT_EQ(pidsOf(status("a")), aPids);
    EXPECT_EQ(supervisor->poolNames(), (std::vector<std::string>{"a", "c"}));
}

TEST_F(ReloadTest, changed_pool_whose_new_workers_fail_keeps_its_old_workers)
{
    PoolConfig b = pool("b", "hold", 2);
    start({b});
    ASSERT_TRUE(runUntil([&] { return settled("b", 2); }));
    const std::set<pid_t> oldB = pidsOf(status("b"));

    b.app = "fail-start";
    b.listen_mode = 0600;
    reload({b});
    ASSERT_TRUE(runUntil([&] { return reloaded(); }));
    ASSERT_EQ(errors->size(), 1u);
    EXPECT_TRUE(std::regex_match(errors->front(),
                                 std::regex("pool b: the new workers did not become ready \\(worker [0-9]+ exited with "
                                            "status 3 before it was ready: ModuleNotFoundError: No module named "
                                            "'fake_app'\\); the running workers stay")))
        << errors->front();
    runFor(200ms);
    EXPECT_EQ(pidsOf(status("b")), oldB);
    EXPECT_EQ(status("b").state, PoolState::Running);
    EXPECT_TRUE(supervisor->poolAvailable("b"));
    EXPECT_EQ(field(holdRequest(socketOf("b")), "FAKE_VALUE"), "from-b");
    EXPECT_TRUE(fs::exists(socketOf("b"))) << "the failed pool let go of the shared socket, nothing more";
    EXPECT_EQ(modeOf(socketOf("b")), 0660u) << "the running pool's listen_mode stays";
}

TEST_F(ReloadTest, changed_pool_not_ready_in_time_keeps_its_old_workers_and_stop_ends_the_new_ones)
{
    PoolConfig b = pool("b", "hold", 1);
    SupervisorOptions options = quickOptions();
    options.reloadReadyTimeout = 300ms;
    start({b}, options);
    ASSERT_TRUE(runUntil([&] { return settled("b", 1); }));
    const std::set<pid_t> oldB = pidsOf(status("b"));

    b.app = "never-ready";
    reload({b});
    bool second = false;
    std::vector<std::string> secondErrors;
    supervisor->reload({b}, [&](std::vector<std::string> result) {
        second = true;
        secondErrors = std::move(result);
    });
    ASSERT_TRUE(runUntil([&] { return second; }));
    EXPECT_EQ(secondErrors, std::vector<std::string>{"a reload is already under way; reload ignored"});

    ASSERT_TRUE(runUntil([&] { return reloaded(); }));
    EXPECT_EQ(*errors, std::vector<std::string>{"pool b: the new workers did not become ready (0 of 1 ready after "
                                                "300ms); the running workers stay"});
    EXPECT_EQ(pidsOf(status("b")), oldB);
    EXPECT_EQ(field(holdRequest(socketOf("b")), "pool"), "b");
}

TEST_F(ReloadTest, stop_during_a_reload_reports_it_and_stops_every_worker)
{
    PoolConfig b = pool("b", "hold", 1);
    start({b});
    ASSERT_TRUE(runUntil([&] { return settled("b", 1); }));
    b.app = "never-ready";
    reload({b});
    ASSERT_TRUE(runUntil([&] { return log.contains("\\[pool b\\] worker [0-9]+ spawned"); }));
    bool stopped = false;
    supervisor->stop([&] { stopped = true; });
    ASSERT_TRUE(runUntil([&] { return stopped && reloaded(); }, 5s));
    EXPECT_EQ(*errors, std::vector<std::string>{"pool b: stopped before its new workers were ready"});
    EXPECT_FALSE(fs::exists(socketOf("b")));
    EXPECT_TRUE(testing::matchingLines(log.lines(), "still running").empty());
}

TEST_F(ReloadTest, changed_listen_address_moves_the_pool_and_removes_the_old_socket)
{
    PoolConfig b = pool("b", "hold", 1);
    start({b});
    ASSERT_TRUE(runUntil([&] { return settled("b", 1); }));
    b.listen.path = dir / "b2.sock";
    reload({b});
    ASSERT_TRUE(runUntil([&] { return reloaded(); }));
    EXPECT_EQ(*errors, std::vector<std::string>{});
    EXPECT_EQ(field(holdRequest(dir / "b2.sock"), "pool"), "b");
    EXPECT_EQ(status("b").listen.path, dir / "b2.sock");
    ASSERT_TRUE(runUntil([&] { return !fs::exists(socketOf("b")); }));
}

}  // namespace
}  // namespace pyfpm::manager
