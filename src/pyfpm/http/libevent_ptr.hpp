// unique_ptr owners for libevent objects, so every event, bufferevent and
// evbuffer the bridge creates is freed exactly once.
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <memory>

namespace pyfpm::http {

struct EventFree {
    void operator()(event* e) const { event_free(e); }
};
struct BuffereventFree {
    void operator()(bufferevent* b) const { bufferevent_free(b); }
};
struct EvbufferFree {
    void operator()(evbuffer* b) const { evbuffer_free(b); }
};

using EventPtr = std::unique_ptr<event, EventFree>;
using BuffereventPtr = std::unique_ptr<bufferevent, BuffereventFree>;
using EvbufferPtr = std::unique_ptr<evbuffer, EvbufferFree>;

}  // namespace pyfpm::http
