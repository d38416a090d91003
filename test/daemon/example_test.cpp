// The configuration that ships (etc/pyfpm.yaml and etc/nginx/pyfpm.conf)
// with the Flask example: what the README's run command starts, here on an
// ephemeral port and a socket in a temp dir.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "test/daemon/helpers.hpp"

namespace pyfpm::test {
namespace {

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

// etc/pyfpm.yaml with its fixed port and socket swapped for the test's, and
// its relative paths pointing into the source tree.
std::string shippedConfig() {
    std::string yaml = readFile(sourceRoot() / "etc/pyfpm.yaml");
    EXPECT_NE(yaml.find("127.0.0.1:8080"), std::string::npos);
    yaml = replaceAll(yaml, "127.0.0.1:8080", "127.0.0.1:{{port}}");
    yaml = replaceAll(yaml, "/tmp/pyfpm-web.sock", "{{dir}}/web.sock");
    yaml = replaceAll(yaml, "/tmp/pyfpm-control.sock", "{{dir}}/control.sock");
    return replaceAll(yaml, "../examples/", "{{source}}/examples/");
}

TEST(ShippedConfig, PassesTheCheck) {
    TempDir dir;
    const std::filesystem::path out = dir / "out.txt";
    Child check({.argv = {requiredEnv("PYFPM_DAEMON"), "-t", "-c", (sourceRoot() / "etc/pyfpm.yaml").string()},
                 .env = {}, .fds = {}, .stdoutFile = out, .stderrFile = out, .cwd = {}});
    const auto status = check.wait();
    ASSERT_TRUE(status && WIFEXITED(*status)) << readFile(out);
    EXPECT_EQ(WEXITSTATUS(*status), 0) << readFile(out);
    EXPECT_NE(readFile(out).find(": ok"), std::string::npos);
}

class FlaskExample : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        daemon_ = new Daemon(shippedConfig());
        daemon_->start();
    }
    static void TearDownTestSuite() { delete daemon_; }
    static Daemon* daemon_;
};

Daemon* FlaskExample::daemon_ = nullptr;

TEST_F(FlaskExample, HtmlPage) {
    const HttpResponse r = httpRequest("GET", daemon_->url("/"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(r.body.find("Hello from pyfpm"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("/static/style.css"), std::string::npos);
}

TEST_F(FlaskExample, JsonEndpointSeesThePoolEnvironment) {
    const HttpResponse r = httpRequest("GET", daemon_->url("/api/info"));
    ASSERT_EQ(r.status, 200);
    const auto info = nlohmann::json::parse(r.body);
    EXPECT_EQ(info["greeting"], "Hello from pyfpm");
    EXPECT_EQ(info["multiprocess"], true);
    EXPECT_EQ(info["server"], "pyfpm/" PYFPM_VERSION);
}

TEST_F(FlaskExample, FormPostIsShownBack) {
    const HttpResponse r = httpRequest("POST", daemon_->url("/form"), "name=Ada&message=hi%20there",
                                       {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("Ada"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("hi there"), std::string::npos) << r.body;
}

TEST_F(FlaskExample, StaticFilesComeFromTheBridge) {
    for (const auto& [path, type] : std::vector<std::pair<std::string, std::string>>{
             {"/static/style.css", "text/css"},
             {"/static/app.js", "text/javascript"},  // media-types 10
             {"/static/logo.svg", "image/svg+xml"}}) {
        const HttpResponse r = httpRequest("GET", daemon_->url(path));
        EXPECT_EQ(r.status, 200) << path;
        EXPECT_EQ(r.header("Content-Type"), type) << path;
        EXPECT_EQ(r.body, readFile(sourceRoot() / "examples/flask" / path.substr(1))) << path;
    }
}

TEST_F(FlaskExample, UnknownPageIsFlasks404) {
    EXPECT_EQ(httpRequest("GET", daemon_->url("/no/such/page")).status, 404);
}

TEST(ShippedNginxConfig, IsValidNginxSyntax) {
    TempDir dir;
    std::string server = readFile(sourceRoot() / "etc/nginx/pyfpm.conf");
    server = replaceAll(server, "/opt/pyfpm/", sourceRoot().string() + "/");
    writeFile(dir / "pyfpm.conf", server);
    writeFile(dir / "nginx.conf", "error_log " + (dir / "error.log").string() + ";\npid " +
                                      (dir / "nginx.pid").string() +
                                      ";\nevents {}\nhttp {\n include /etc/nginx/mime.types;\n"
                                      " include " + (dir / "pyfpm.conf").string() + ";\n}\n");
    const std::filesystem::path out = dir / "out.txt";
    // The server block includes fastcgi_params relative to the main
    // config's folder, as in /etc/nginx.
    std::filesystem::create_symlink("/etc/nginx/fastcgi_params", dir / "fastcgi_params");
    Child check({.argv = {"/usr/sbin/nginx", "-t", "-p", dir.path().string(), "-e", (dir / "error.log").string(),
                          "-c", (dir / "nginx.conf").string()},
                 .env = {}, .fds = {}, .stdoutFile = out, .stderrFile = out, .cwd = dir.path()});
    const auto status = check.wait();
    ASSERT_TRUE(status && WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 0) << readFile(out);
}

}  // namespace
}  // namespace pyfpm::test
