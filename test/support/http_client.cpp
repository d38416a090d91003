#include "test/support/http_client.hpp"

#include <curl/curl.h>

#include <memory>
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

struct CurlDeleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
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

HttpResponse httpRequest(const std::string& method, const std::string& url, const std::string& body,
                         const HttpHeaders& headers, std::chrono::milliseconds timeout)
{
    static std::once_flag globalInit;
    std::call_once(globalInit, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) {
        throw std::runtime_error("curl_easy_init failed");
    }
    std::unique_ptr<curl_slist, SlistDeleter> list;
    // libcurl waits a second for "100 Continue" before large bodies.
    list.reset(curl_slist_append(list.release(), "Expect:"));
    for (const auto& [name, value] : headers) {
        const std::string line = value.empty() ? name + ";" : name + ": " + value;
        list.reset(curl_slist_append(list.release(), line.c_str()));
    }

    HttpResponse response;
    CURL* handle = curl.get();
    curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_PROXY, "");
    curl_easy_setopt(handle, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, list.get());
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(handle, CURLOPT_HEADERDATA, &response);
    if (method == "HEAD") {
        curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
    } else {
        const bool sendsBody = !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
        if (sendsBody) {
            curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
            curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data());
        }
        if (method != "GET" && method != "POST") {
            curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, method.c_str());
        } else if (method == "GET" && sendsBody) {
            curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, "GET");
        }
    }

    const CURLcode result = curl_easy_perform(handle);
    if (result != CURLE_OK) {
        throw std::runtime_error(method + " " + url + ": " + curl_easy_strerror(result));
    }
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
}

}  // namespace pyfpm::test
