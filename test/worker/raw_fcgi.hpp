// FastCGI requests on a connection the test holds itself, for what the
// one-request-per-connection client (test/support/fcgi_client.hpp) cannot
// do: several requests on one kept connection (FCGI_KEEP_CONN).
#pragma once

#include <string>

#include "fcgi/client.hpp"
#include "test/support/fcgi_client.hpp"

namespace pyfpm::test {

// FCGI_BEGIN_REQUEST, FCGI_PARAMS and FCGI_STDIN (ended) for `request`.
std::string encodeRequest(const fcgi::ClientRequest& request, const Params& params,
                          const std::string& body);

// Writes all of `bytes` to the blocking descriptor `fd`; throws on failure.
void sendAll(int fd, const std::string& bytes);

// Reads from `fd` until `request` ends; returns the response body. Throws
// on a protocol error, a closed connection, or 10 s without data.
std::string finishOn(int fd, fcgi::ClientRequest& request);

}  // namespace pyfpm::test
