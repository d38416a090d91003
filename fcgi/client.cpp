#include "fcgi/client.hpp"

namespace pyfpm::fcgi {

void ParamsBuilder::add(std::string_view name, std::string_view value) {
    appendNameValue(encoded_, name, value);
}

void ParamsBuilder::appendTo(std::string& out, std::uint16_t requestId) const {
    appendStream(out, RecordType::Params, requestId, encoded_);
    appendStreamEnd(out, RecordType::Params, requestId);
}

ClientRequest::ClientRequest(std::uint16_t requestId, std::uint8_t flags,
                             std::size_t maxHeaderBytes)
    : request_id_(requestId), flags_(flags), cgi_(maxHeaderBytes) {}

void ClientRequest::appendBegin(std::string& out) const {
    appendBeginRequest(out, request_id_, Role::Responder, flags_);
}

void ClientRequest::appendParams(std::string& out, const ParamsBuilder& params) const {
    params.appendTo(out, request_id_);
}

void ClientRequest::appendStdin(std::string& out, std::string_view data) const {
    appendStream(out, RecordType::Stdin, request_id_, data);
}

void ClientRequest::appendStdinEnd(std::string& out) const {
    appendStreamEnd(out, RecordType::Stdin, request_id_);
}

void ClientRequest::appendAbort(std::string& out) const {
    appendAbortRequest(out, request_id_);
}

void ClientRequest::feed(std::string_view bytes) {
    // feed() moves the parser's buffer; body bytes that followed the head
    // still point into it, so keep our own copy of them.
    if (!pending_body_.empty()) {
        pending_owned_.assign(pending_body_);
        pending_body_ = pending_owned_;
    }
    parser_.feed(bytes);
}

ClientEvent ClientRequest::fail(std::string why) {
    finished_ = true;
    terminal_ = ClientEvent{};
    terminal_.type = ClientEvent::Type::Error;
    terminal_.error = std::move(why);
    return terminal_;
}

ClientEvent ClientRequest::next() {
    if (finished_) return terminal_;

    ClientEvent event;
    if (!pending_body_.empty()) {
        event.type = ClientEvent::Type::Body;
        event.data = pending_body_;
        pending_body_ = {};
        return event;
    }

    for (;;) {
        const RecordParser::Result result = parser_.next();
        if (result.status == RecordParser::Status::NeedMore) return event;
        if (result.status == RecordParser::Status::Error) {
            return fail("malformed FastCGI record stream: " + toString(result.error));
        }
        const Record& record = result.record;
        if (record.header.requestId != request_id_) {
            return fail(toString(record.header.type) + " record for requestId " +
                        std::to_string(record.header.requestId) + ", expected " +
                        std::to_string(request_id_));
        }

        switch (record.header.type) {
        case RecordType::Stdout:
            if (stdout_closed_) return fail("FCGI_STDOUT record after the end of the stream");
            if (record.content.empty()) {
                stdout_closed_ = true;
                if (!head_done_ && cgi_.finish() == CgiResponseParser::Status::Error) {
                    return fail(cgi_.error());
                }
                continue;
            }
            if (head_done_) {
                event.type = ClientEvent::Type::Body;
                event.data = record.content;
                return event;
            }
            {
                std::string_view body;
                switch (cgi_.feed(record.content, body)) {
                case CgiResponseParser::Status::NeedMore: continue;
                case CgiResponseParser::Status::Error: return fail(cgi_.error());
                case CgiResponseParser::Status::Done: break;
                }
                head_done_ = true;
                pending_body_ = body;
                event.type = ClientEvent::Type::Head;
                return event;
            }

        case RecordType::Stderr:
            // The empty record only ends the stream (§5.3); nothing to report.
            if (record.content.empty()) continue;
            event.type = ClientEvent::Type::Stderr;
            event.data = record.content;
            return event;

        case RecordType::EndRequest: {
            EndRequestBody end;
            decodeEndRequestBody(record.content, end);  // length checked by the parser
            if (end.protocolStatus != ProtocolStatus::RequestComplete) {
                return fail("application refused the request: " + toString(end.protocolStatus));
            }
            if (!head_done_) {
                return fail("FCGI_END_REQUEST before a complete CGI header block");
            }
            finished_ = true;
            terminal_ = ClientEvent{};
            terminal_.type = ClientEvent::Type::End;
            terminal_.end = end;
            return terminal_;
        }

        case RecordType::BeginRequest:
        case RecordType::AbortRequest:
        case RecordType::Params:
        case RecordType::Stdin:
        case RecordType::Data:
        case RecordType::GetValues:
        case RecordType::GetValuesResult:
        case RecordType::UnknownType:
            break;
        }
        return fail("unexpected " + toString(record.header.type) + " record from the application");
    }
}

ClientEvent ClientRequest::eof() {
    if (finished_) return terminal_;
    return fail("connection closed before FCGI_END_REQUEST");
}

}  // namespace pyfpm::fcgi
