// A pyfpm-worker with a scoreboard, as the daemon starts one: the test
// process owns the table (manager::Scoreboard), claims a slot, and hands
// the memfd over as descriptor 4 with `--scoreboard-fd 4 --slot N`.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "manager/scoreboard.hpp"
#include "manager/worker_contract.hpp"
#include "test/worker/worker_process.hpp"

namespace pyfpm::test {

class ScoreboardWorker {
public:
    explicit ScoreboardWorker(std::string app, std::vector<std::string> extraArgs = {})
        : board_(2, "worker-test"), index_(claimed(board_)), worker_(options(std::move(app), std::move(extraArgs)))
    {
        board_.assign(index_, worker_.process().pid());
    }

    WorkerProcess& worker() { return worker_; }
    std::optional<manager::SlotSnapshot> slot() const { return board_.read(index_); }
    // Polls the slot until `condition` holds for a consistent read of it.
    template <typename Condition>
    bool waitSlot(Condition condition, std::chrono::milliseconds timeout = 10s)
    {
        return waitUntil([&] {
            const auto current = slot();
            return current && condition(*current);
        }, timeout);
    }

private:
    static std::size_t claimed(manager::Scoreboard& board)
    {
        const auto index = board.claim();
        if (!index) {
            throw std::logic_error("a fresh scoreboard has a free slot");
        }
        return *index;
    }

    WorkerProcess::Options options(std::string app, std::vector<std::string> extraArgs) const
    {
        WorkerProcess::Options result;
        result.app = std::move(app);
        result.pythonPath = {WorkerProcess::testApps().string()};
        result.extraArgs = {"--scoreboard-fd", std::to_string(manager::contract::kScoreboardFd), "--slot",
                            std::to_string(index_)};
        result.extraArgs.insert(result.extraArgs.end(), extraArgs.begin(), extraArgs.end());
        result.fds = {{manager::contract::kScoreboardFd, board_.fd()}};
        return result;
    }

    manager::Scoreboard board_;
    std::size_t index_;
    WorkerProcess worker_;
};

}  // namespace pyfpm::test
