#include "src/pyfpm/control/server.hpp"

#include <sys/socket.h>

#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <spdlog/spdlog.h>

#include "manager/listen_socket.hpp"

namespace pyfpm::control {

namespace {

using nlohmann::json;

// Connections beyond this are not accepted until one closes; pyfpmctl
// opens one per command.
constexpr int kBacklog = 16;

std::string answerLine(const json& answer)
{
    // A request URI in a status answer may hold any bytes: invalid UTF-8
    // becomes U+FFFD instead of an exception.
    return answer.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace

struct Server::State : std::enable_shared_from_this<Server::State> {
    struct Connection {
        State* state = nullptr;
        std::uint64_t id = 0;
        bufferevent* bev = nullptr;
        bool busy = false;        // a request awaits its answer
        bool processing = false;  // inside processLines()
        bool closeWhenSent = false;
        std::vector<std::function<void()>> afterSent;

        ~Connection()
        {
            if (bev != nullptr) {
                bufferevent_free(bev);
            }
            for (auto& callback : afterSent) {
                callback();
            }
        }
    };

    event_base* base = nullptr;
    Handler handler;
    manager::ListenSocket socket;
    evconnlistener* listener = nullptr;
    std::uint64_t nextId = 1;
    std::map<std::uint64_t, std::unique_ptr<Connection>> connections;

    ~State()
    {
        if (listener != nullptr) {
            evconnlistener_free(listener);
        }
    }

    static void onAccept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self)
    {
        static_cast<State*>(self)->accept(fd);
    }

    static void onRead(bufferevent*, void* ctx)
    {
        auto* connection = static_cast<Connection*>(ctx);
        connection->state->processLines(*connection);
    }

    static void onWrite(bufferevent*, void* ctx)
    {
        // The output buffer drained (write low-water mark 0).
        auto* connection = static_cast<Connection*>(ctx);
        auto callbacks = std::move(connection->afterSent);
        connection->afterSent.clear();
        State* state = connection->state;
        const bool close = connection->closeWhenSent;
        const std::uint64_t id = connection->id;
        for (auto& callback : callbacks) {
            callback();
        }
        if (close) {
            state->connections.erase(id);
        }
    }

    static void onEvent(bufferevent*, short, void* ctx)
    {
        // EOF or an error: the client is gone. An answer still to come is
        // dropped by its Reply.
        auto* connection = static_cast<Connection*>(ctx);
        connection->state->connections.erase(connection->id);
    }

    void accept(evutil_socket_t fd)
    {
        bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (bev == nullptr) {
            spdlog::error("control socket: cannot set up a connection (bufferevent_socket_new); closing it");
            evutil_closesocket(fd);
            return;
        }
        auto connection = std::make_unique<Connection>();
        connection->state = this;
        connection->id = nextId++;
        connection->bev = bev;
        bufferevent_setcb(bev, &State::onRead, &State::onWrite, &State::onEvent, connection.get());
        bufferevent_enable(bev, EV_READ | EV_WRITE);
        connections.emplace(connection->id, std::move(connection));
    }

    void processLines(Connection& connection)
    {
        if (connection.processing) {
            return;
        }
        connection.processing = true;
        const std::uint64_t id = connection.id;
        evbuffer* input = bufferevent_get_input(connection.bev);
        while (!connection.busy && !connection.closeWhenSent) {
            std::size_t length = 0;
            char* line = evbuffer_readln(input, &length, EVBUFFER_EOL_LF);
            if (line == nullptr) {
                if (evbuffer_get_length(input) > kMaxRequestBytes) {
                    send(connection, failure(ErrorCode::BadRequest,
                                             "request line longer than " + std::to_string(kMaxRequestBytes) +
                                                 " bytes"),
                         nullptr);
                    connection.closeWhenSent = true;
                    bufferevent_disable(connection.bev, EV_READ);
                }
                break;
            }
            const std::string text(line, length);
            std::free(line);
            auto parsed = parseRequest(text);
            if (auto* error = std::get_if<std::string>(&parsed)) {
                send(connection, failure(ErrorCode::BadRequest, *error), nullptr);
                continue;
            }
            connection.busy = true;
            handler(std::get<Request>(parsed), makeReply(id));
            // The handler may have answered at once; the connection may
            // also be gone (it cannot close itself here, but be safe).
            if (connections.count(id) == 0) {
                return;
            }
        }
        connection.processing = false;
    }

    Reply makeReply(std::uint64_t id)
    {
        std::weak_ptr<State> weak = weak_from_this();
        return [weak, id](const json& answer, std::function<void()> afterSent) {
            const auto state = weak.lock();
            if (!state || state->connections.count(id) == 0) {
                if (afterSent) {
                    afterSent();
                }
                return;
            }
            Connection& connection = *state->connections.at(id);
            connection.busy = false;
            state->send(connection, answer, std::move(afterSent));
            state->processLines(connection);
        };
    }

    void send(Connection& connection, const json& answer, std::function<void()> afterSent)
    {
        const std::string line = answerLine(answer);
        bufferevent_write(connection.bev, line.data(), line.size());
        if (afterSent) {
            connection.afterSent.push_back(std::move(afterSent));
        }
    }
};

Server::Server(event_base* base, const std::filesystem::path& path, Handler handler)
    : state_(std::make_shared<State>())
{
    manager::ListenAddress address;
    address.kind = manager::ListenAddress::Kind::Unix;
    address.path = path;
    state_->base = base;
    state_->handler = std::move(handler);
    state_->socket = manager::ListenSocket::open(address, kBacklog, 0600);
    // evconnlistener accepts until EAGAIN, so the socket must not block;
    // unlike a pool's socket, no worker shares it. Backlog 0: it listens
    // already.
    if (evutil_make_socket_nonblocking(state_->socket.fd()) != 0) {
        throw std::runtime_error("control socket " + path.string() + ": cannot make it non-blocking");
    }
    state_->listener = evconnlistener_new(base, &State::onAccept, state_.get(), LEV_OPT_CLOSE_ON_EXEC, 0,
                                          state_->socket.fd());
    if (state_->listener == nullptr) {
        throw std::runtime_error("control socket " + path.string() + ": libevent cannot watch it");
    }
}

Server::~Server()
{
    // The daemon is going away: what was to run after an answer (a stop)
    // must not run into a half-destroyed daemon.
    for (auto& [id, connection] : state_->connections) {
        connection->afterSent.clear();
    }
    state_->connections.clear();
    if (state_->listener != nullptr) {
        evconnlistener_free(state_->listener);
        state_->listener = nullptr;
    }
    state_->socket.close();
}

const std::filesystem::path& Server::path() const
{
    return state_->socket.address().path;
}

}  // namespace pyfpm::control
