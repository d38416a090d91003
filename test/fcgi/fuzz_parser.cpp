// libFuzzer target: arbitrary application output through the record parser
// and the client request state machine. Must never crash, assert or leak.
// Built with -fsanitize=fuzzer under clang; otherwise linked with
// corpus_replay.cpp so the corpus runs as a regression test in every build.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fcgi/client.hpp"
#include "fcgi/name_value.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pyfpm::fcgi;
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    // The first byte picks a chunk size, so the fuzzer explores splits too.
    const std::size_t chunk = size > 0 ? 1 + data[0] % 64 : 1;
    ClientRequest request(1, 0, 4096);
    bool done = false;
    for (std::size_t i = 1; i < size && !done; i += chunk) {
        request.feed(input.substr(i, chunk));
        for (;;) {
            const ClientEvent e = request.next();
            if (e.type == ClientEvent::Type::NeedMore) break;
            if (e.type == ClientEvent::Type::End || e.type == ClientEvent::Type::Error) {
                done = true;
                break;
            }
        }
    }
    request.eof();

    NameValuePairs pairs;
    decodeNameValues(input, pairs);
    return 0;
}
