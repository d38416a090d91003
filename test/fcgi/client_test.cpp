// The client side of a responder request (FastCGI 1.0 §5, §6.2), fed recorded
// application output.
#include <gtest/gtest.h>

#include <string>

#include "fcgi/client.hpp"

namespace pyfpm::fcgi {
namespace {

struct Outcome {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string stderrData;
    bool ended = false;
    std::uint32_t appStatus = 0;
    std::string error;
    int heads = 0;
};

// Feeds `stream` in pieces of `chunk` bytes, then end of file.
Outcome run(const std::string& stream, std::size_t chunk, std::uint16_t requestId = 1) {
    ClientRequest request(requestId);
    Outcome o;
    auto drain = [&] {
        for (;;) {
            ClientEvent e = request.next();
            switch (e.type) {
            case ClientEvent::Type::NeedMore: return true;
            case ClientEvent::Type::Head:
                ++o.heads;
                o.status = request.head().status;
                o.headers = request.head().headers;
                break;
            case ClientEvent::Type::Body: o.body.append(e.data); break;
            case ClientEvent::Type::Stderr: o.stderrData.append(e.data); break;
            case ClientEvent::Type::End:
                o.ended = true;
                o.appStatus = e.end.appStatus;
                return false;
            case ClientEvent::Type::Error: o.error = e.error; return false;
            }
        }
    };
    for (std::size_t i = 0; i < stream.size(); i += chunk) {
        request.feed(std::string_view(stream).substr(i, chunk));
        if (!drain()) return o;
    }
    const ClientEvent e = request.eof();
    if (e.type == ClientEvent::Type::Error) o.error = e.error;
    return o;
}

std::string response(std::uint16_t id = 1) {
    std::string s;
    // The head is split across records and the body starts in the record
    // that ends the head.
    appendStream(s, id == 1 ? RecordType::Stdout : RecordType::Stdout, id, "Status: 200 OK\r\nSet-Co");
    appendStream(s, RecordType::Stdout, id, "okie: a=1\r\nSet-Cookie: b=2\r\n\r\nhel");
    appendStream(s, RecordType::Stderr, id, "log line\n");
    appendStream(s, RecordType::Stdout, id, "lo");
    appendStreamEnd(s, RecordType::Stderr, id);
    appendStreamEnd(s, RecordType::Stdout, id);
    appendEndRequest(s, id, 7, ProtocolStatus::RequestComplete);
    return s;
}

TEST(ClientRequest, EncodesBeginParamsAndStdinWithTerminators) {
    ClientRequest request(3);
    ParamsBuilder params;
    params.add("REQUEST_METHOD", "POST");
    std::string out;
    request.appendBegin(out);
    request.appendParams(out, params);
    request.appendStdin(out, "body");
    request.appendStdinEnd(out);

    std::string expected;
    appendBeginRequest(expected, 3, Role::Responder, 0);
    std::string pairs;
    appendNameValue(pairs, "REQUEST_METHOD", "POST");
    appendRecord(expected, RecordType::Params, 3, pairs);
    appendStreamEnd(expected, RecordType::Params, 3);
    appendRecord(expected, RecordType::Stdin, 3, "body");
    appendStreamEnd(expected, RecordType::Stdin, 3);
    EXPECT_EQ(out, expected);
}

TEST(ClientRequest, ParamsLongerThanOneRecordAreSplit) {
    ParamsBuilder params;
    params.add("HTTP_X_BIG", std::string(100000, 'v'));
    std::string out;
    ClientRequest(1).appendParams(out, params);
    RecordParser parser;
    parser.feed(out);
    std::string stream;
    int records = 0;
    for (auto r = parser.next(); r.status == RecordParser::Status::Record; r = parser.next()) {
        EXPECT_EQ(r.record.header.type, RecordType::Params);
        stream.append(r.record.content);
        ++records;
    }
    EXPECT_EQ(records, 3);  // 65535 + rest + the empty terminator
    NameValuePairs pairs;
    ASSERT_TRUE(decodeNameValues(stream, pairs));
    EXPECT_EQ(pairs.at(0).second.size(), 100000u);
}

TEST(ClientRequest, ConsumesAWholeResponseAtEveryChunkSize) {
    const std::string s = response();
    for (std::size_t chunk = 1; chunk <= s.size(); ++chunk) {
        const Outcome o = run(s, chunk);
        ASSERT_TRUE(o.error.empty()) << "chunk " << chunk << ": " << o.error;
        ASSERT_TRUE(o.ended) << chunk;
        EXPECT_EQ(o.heads, 1);
        EXPECT_EQ(o.status, 200);
        ASSERT_EQ(o.headers.size(), 2u) << chunk;
        EXPECT_EQ(o.headers[1].second, "b=2");
        EXPECT_EQ(o.body, "hello") << chunk;
        EXPECT_EQ(o.stderrData, "log line\n");
        EXPECT_EQ(o.appStatus, 7u);
    }
}

TEST(ClientRequest, EverySplitPointInTwoHalves) {
    const std::string s = response();
    for (std::size_t split = 0; split <= s.size(); ++split) {
        ClientRequest request(1);
        std::string body;
        bool ended = false;
        for (std::string_view half : {std::string_view(s).substr(0, split), std::string_view(s).substr(split)}) {
            request.feed(half);
            for (ClientEvent e = request.next(); e.type != ClientEvent::Type::NeedMore && !ended;
                 e = request.next()) {
                ASSERT_NE(e.type, ClientEvent::Type::Error) << split << ": " << e.error;
                if (e.type == ClientEvent::Type::Body) body.append(e.data);
                ended = e.type == ClientEvent::Type::End;
            }
        }
        EXPECT_TRUE(ended) << split;
        EXPECT_EQ(body, "hello") << split;
    }
}

TEST(ClientRequest, BodyInTheSameRecordAsTheHeadSurvivesAFeed) {
    std::string s;
    appendStream(s, RecordType::Stdout, 1, "Content-Type: text/plain\r\n\r\nfirst");
    std::string rest;
    appendStream(rest, RecordType::Stdout, 1, "second");
    appendStreamEnd(rest, RecordType::Stdout, 1);
    appendEndRequest(rest, 1, 0, ProtocolStatus::RequestComplete);

    ClientRequest request(1);
    request.feed(s);
    ASSERT_EQ(request.next().type, ClientEvent::Type::Head);
    // The caller feeds before collecting the rest of the first record.
    request.feed(rest);
    std::string body;
    for (ClientEvent e = request.next(); e.type == ClientEvent::Type::Body; e = request.next()) {
        body.append(e.data);
    }
    EXPECT_EQ(body, "firstsecond");
}

std::string withEnd(std::string s, ProtocolStatus status = ProtocolStatus::RequestComplete) {
    appendEndRequest(s, 1, 0, status);
    return s;
}

TEST(ClientRequest, Errors) {
    std::string headOnly;
    appendStream(headOnly, RecordType::Stdout, 1, "Content-Type: text/plain\r\n");
    EXPECT_NE(run(withEnd(headOnly), 4096).error.find("before a complete CGI header"), std::string::npos);

    std::string closedEarly = headOnly;
    appendStreamEnd(closedEarly, RecordType::Stdout, 1);
    EXPECT_NE(run(closedEarly, 4096).error.find("blank line"), std::string::npos);

    EXPECT_NE(run(response(2), 4096, 1).error.find("requestId 2, expected 1"), std::string::npos);

    std::string full;
    appendStream(full, RecordType::Stdout, 1, "\r\n");
    EXPECT_NE(run(withEnd(full, ProtocolStatus::Overloaded), 4096).error.find("FCGI_OVERLOADED"),
              std::string::npos);

    std::string truncated = response();
    truncated.resize(truncated.size() - 16);
    EXPECT_NE(run(truncated, 4096).error.find("closed before FCGI_END_REQUEST"), std::string::npos);

    std::string afterEnd = full;
    appendStreamEnd(afterEnd, RecordType::Stdout, 1);
    appendStream(afterEnd, RecordType::Stdout, 1, "more");
    EXPECT_NE(run(afterEnd, 4096).error.find("after the end of the stream"), std::string::npos);

    std::string stdinFromApp = full;
    appendStream(stdinFromApp, RecordType::Stdin, 1, "x");
    EXPECT_NE(run(stdinFromApp, 4096).error.find("unexpected FCGI_STDIN"), std::string::npos);

    EXPECT_NE(run("HTTP/1.1 502 Bad Gateway\r\n\r\n", 4096).error.find("malformed"), std::string::npos);
}

TEST(ClientRequest, ErrorAndEndAreSticky) {
    ClientRequest request(1);
    request.feed("garbage!");
    EXPECT_EQ(request.next().type, ClientEvent::Type::Error);
    EXPECT_EQ(request.next().type, ClientEvent::Type::Error);
    EXPECT_EQ(request.eof().type, ClientEvent::Type::Error);

    ClientRequest ok(1);
    ok.feed(response());
    ClientEvent e;
    do {
        e = ok.next();
    } while (e.type != ClientEvent::Type::End && e.type != ClientEvent::Type::Error);
    EXPECT_EQ(e.type, ClientEvent::Type::End);
    EXPECT_EQ(ok.next().type, ClientEvent::Type::End);
    EXPECT_EQ(ok.eof().type, ClientEvent::Type::End);
}

}  // namespace
}  // namespace pyfpm::fcgi
