// An incremental FastCGI 1.0 record parser (§3.3). Bytes go in in any split
// (one at a time, or a megabyte at once); whole records come out. Bad input is
// an error result, never an assert or undefined behaviour: the parser is
// fuzzed (test/fcgi/fuzz_parser.cpp).
//
// Not thread-safe; one parser per connection.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "fcgi/record.hpp"

namespace pyfpm::fcgi {

enum class ParseError {
    None,
    BadVersion,      // version byte is not FCGI_VERSION_1
    BadType,         // type 0, which no version of the spec defines
    BadBodyLength,   // a fixed-size body (§5.1, §5.5, §4.2) that is not 8 bytes
};

std::string toString(ParseError error);

struct Record {
    RecordHeader header;
    // The content without padding. Points into the parser's buffer: valid
    // until the next call to feed() or next().
    std::string_view content;
};

class RecordParser {
public:
    enum class Status { NeedMore, Record, Error };

    struct Result {
        Status status = Status::NeedMore;
        Record record;                     // when status == Record
        ParseError error = ParseError::None;  // when status == Error
    };

    // Appends input. After an error the parser stays in error and feed()
    // discards its input.
    void feed(std::string_view bytes);

    // The next complete record, NeedMore when the buffered bytes end inside a
    // record, or Error (sticky) for bytes that cannot be a FastCGI stream.
    Result next();

    // Bytes fed but not yet returned as records (a partial record).
    std::size_t buffered() const { return buffer_.size() - offset_; }

    // True when no partial record is buffered: a clean place for the stream
    // to end.
    bool atRecordBoundary() const { return buffered() == 0; }

private:
    std::string buffer_;
    std::size_t offset_ = 0;   // start of the first unconsumed byte
    ParseError error_ = ParseError::None;
};

}  // namespace pyfpm::fcgi
