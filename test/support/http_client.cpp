#include "test/support/http_client.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <string_view>

namespace pyfpm::test {

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

std::string_view trim(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                             text.back() == '\n')) {
        text.remove_suffix(1);
    }
    return text;
}

std::size_t onBody(char* data, std::size_t size, std::size_t count, void* user)
{
    static_cast<HttpResponse*>(user)->body.append(data, size * count);
    return size * count;
}

std::size_t onHeader(char* data, std::size_t size, std::size_t count, void* user)
{
    auto* response = static_cast<HttpResponse*>(user);
    const std::string_view line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {
        response->headers.clear();  // a new head (after 100 Continue)
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
        response->headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                       std::string(trim(line.substr(colon + 1))));
    }
    return size * count;
}

struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

std::string HttpResponse::header(const std::string& name) const
{
    for (const auto& [key, value] : headers) {
        if (equalsIgnoreCase(key, name)) {
            return value;
        }
    }
    return {};
}

std::vector<std::string> HttpResponse::headerValues(const std::string& name) const
{
    std::vector<std::string> values;
    for (const auto& [key, value] : headers) {
        if (equalsIgnoreCase(key, name)) {
            values.push_back(value);
        }
    }
    return values;
}

bool HttpResponse::hasHeader(const std::string& name) const
{
    return std::any_of(headers.begin(), headers.end(),
                       [&name](const auto& field) { return equalsIgnoreCase(field.first, name); });
}

HttpClient::HttpClient()
{
    static std::once_flag globalInit;
    std::call_once(globalInit, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_.reset(curl_easy_init());
    if (!curl_) {
        throw std::runtime_error("curl_easy_init failed");
    }
}

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::fetch(const HttpRequest& request)
{
    std::unique_ptr<curl_slist, SlistDeleter> list;
    // libcurl waits a second for "100 Continue" before large bodies.
    list.reset(curl_slist_append(list.release(), "Expect:"));
    for (const auto& [name, value] : request.headers) {
        // "Name:" would tell libcurl to drop the header; "Name;" sends it empty.
        const std::string line = value.empty() ? name + ";" : name + ": " + value;
        list.reset(curl_slist_append(list.release(), line.c_str()));
    }

    HttpResponse response;
    CURL* handle = curl_.get();
    // Forget the previous request's options; the connection cache stays.
    curl_easy_reset(handle);
    curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_PROXY, "");
    curl_easy_setopt(handle, CURLOPT_PATH_AS_IS, 1L);  // send "..", "%2e" untouched
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, list.get());
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(handle, CURLOPT_HEADERDATA, &response);
    if (request.http10) {
        curl_easy_setopt(handle, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_0);
    }
    const std::string& method = request.method;
    if (method == "HEAD") {
        curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
    } else {
        const bool sendsBody =
            !request.body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
        if (sendsBody) {
            curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(request.body.size()));
            curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
        }
        // A body makes libcurl send POST unless told otherwise.
        if (method != "GET" && method != "POST") {
            curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, method.c_str());
        } else if (method == "GET" && sendsBody) {
            curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, "GET");
        }
    }

    response.code = curl_easy_perform(handle);
    if (response.code != CURLE_OK) {
        response.error = curl_easy_strerror(response.code);
    }
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
    long opened = 0;
    curl_easy_getinfo(handle, CURLINFO_NUM_CONNECTS, &opened);
    connections_ += opened;
    // The list dies with this call; the handle must not point at it.
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, nullptr);
    return response;
}

HttpResponse httpRequest(const std::string& method, const std::string& url, const std::string& body,
                         const HttpHeaders& headers, std::chrono::milliseconds timeout)
{
    HttpRequest request;
    request.method = method;
    request.url = url;
    request.body = body;
    request.headers = headers;
    request.timeout = timeout;
    HttpResponse response = HttpClient().fetch(request);
    if (response.code != CURLE_OK) {
        throw std::runtime_error(method + " " + url + ": " + response.error);
    }
    return response;
}

}  // namespace pyfpm::test
