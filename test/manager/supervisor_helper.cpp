// A minimal daemon for pdeathsig_test: runs a Supervisor with one pool of
// fake workers, writes the worker pids to a file once all are ready, then
// keeps running until it is killed (or 30 s pass, so it can never linger).
//   supervisor_helper WORKER_BINARY SOCKET_PATH PIDS_FILE
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <event2/event.h>

#include "manager/supervisor.hpp"

namespace {

struct Context {
    pyfpm::manager::Supervisor* supervisor = nullptr;
    std::filesystem::path pidsFile;
    bool written = false;
};

void onTick(evutil_socket_t, short, void* arg)
{
    auto* context = static_cast<Context*>(arg);
    const auto status = context->supervisor->status("web");
    if (context->written || status.readyWorkers != status.maxChildren) {
        return;
    }
    const auto temporary = context->pidsFile.string() + ".tmp";
    {
        std::ofstream out(temporary);
        for (const auto& worker : status.workers) {
            out << worker.pid << '\n';
        }
    }
    // Renamed into place so the test never reads half a file.
    std::filesystem::rename(temporary, context->pidsFile);
    context->written = true;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s WORKER_BINARY SOCKET_PATH PIDS_FILE\n", argv[0]);
        return 2;
    }
    std::unique_ptr<event_base, void (*)(event_base*)> base(event_base_new(), &event_base_free);
    pyfpm::manager::Supervisor supervisor(base.get(), argv[1]);

    pyfpm::manager::PoolConfig pool;
    pool.name = "web";
    pool.app = "serve";
    pool.listen.kind = pyfpm::manager::ListenAddress::Kind::Unix;
    pool.listen.path = argv[2];
    pool.max_children = 2;
    supervisor.start({pool});

    Context context{&supervisor, argv[3]};
    std::unique_ptr<event, void (*)(event*)> tick(event_new(base.get(), -1, EV_PERSIST, &onTick, &context),
                                                  &event_free);
    const timeval interval{0, 10'000};
    event_add(tick.get(), &interval);
    const timeval limit{30, 0};
    event_base_loopexit(base.get(), &limit);
    event_base_dispatch(base.get());
    return 0;
}
