// A scripts pool (pyfpm.yaml(5) `scripts:`) through the real daemon, served
// two ways at once: by pyfpm's own bridge (which maps the path to
// SCRIPT_FILENAME) and by a real nginx that fastcgi_passes to the pool
// socket with SCRIPT_FILENAME = $document_root$fastcgi_script_name, as
// php-fpm setups do. Plus SCRIPT_FILENAMEs no web server would send, over a
// FastCGI connection of the test's own.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "test/daemon/helpers.hpp"
#include "test/support/fcgi_client.hpp"
#include "test/support/nginx.hpp"

namespace pyfpm::test {
namespace {

namespace fs = std::filesystem;

// One worker, so that what a request leaves behind in the process would be
// seen by the next one.
const char* const kScriptsConfig = R"(
stop_timeout: 10s
http:
  listen: 127.0.0.1:{{port}}
  routes:
    - {prefix: /, pool: scripts}
pools:
  scripts:
    scripts: {root: "{{dir}}/www"}
    listen: scripts.sock
    pm: static
    max_children: 1
    request_timeout: 20s
)";

std::string nginxServer(const fs::path& dir)
{
    return "        root " + (dir / "www").string() + ";\n"
           "        location / {\n"
           "            fastcgi_split_path_info ^(.+?\\.py)(/.*)$;\n"
           "            include /etc/nginx/fastcgi_params;\n"
           "            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n"
           "            fastcgi_param PATH_INFO $fastcgi_path_info;\n"
           "            fastcgi_pass unix:" + (dir / "scripts.sock").string() + ";\n"
           "        }\n";
}

enum class Front { Bridge, Nginx };

std::string frontName(const ::testing::TestParamInfo<Front>& info)
{
    return info.param == Front::Bridge ? "Bridge" : "Nginx";
}

class ScriptsPool : public ::testing::TestWithParam<Front> {
protected:
    static void SetUpTestSuite()
    {
        daemon_ = new Daemon(kScriptsConfig);
        const fs::path dir = daemon_->dir();
        fs::copy(sourceRoot() / "test" / "daemon" / "apps" / "scripts", dir / "www", fs::copy_options::recursive);
        writeFile(dir / "secret.py", "print('Content-Type: text/plain')\nprint()\nprint('SECRET')\n");
        fs::create_symlink(dir / "secret.py", dir / "www" / "escape.py");
        fs::create_symlink(dir, dir / "www" / "up");
        daemon_->start();
        ASSERT_TRUE(daemon_->waitForLog("worker \\d+ ready")) << daemon_->log();
        nginx_ = new NginxFixture(nginxServer(dir));
    }
    static void TearDownTestSuite()
    {
        delete nginx_;
        nginx_ = nullptr;
        delete daemon_;
        daemon_ = nullptr;
    }

    static std::string url(const std::string& path)
    {
        return GetParam() == Front::Bridge ? daemon_->url(path) : nginx_->url(path);
    }
    static HttpResponse get(const std::string& path) { return httpRequest("GET", url(path)); }
    // A file of this front's own, so the two fronts do not see each
    // other's edits.
    static std::string own(const std::string& name)
    {
        return (GetParam() == Front::Bridge ? "bridge-" : "nginx-") + name;
    }
    static void edit(const std::string& name, const std::string& content)
    {
        const fs::path path = daemon_->dir() / "www" / name;
        const bool existed = fs::exists(path);
        const auto before = existed ? fs::last_write_time(path) : fs::file_time_type::clock::now();
        writeFile(path, content);
        // Explicitly later: the change shows within the same second.
        fs::last_write_time(path, before + std::chrono::seconds(2));
    }

    static Daemon* daemon_;
    static NginxFixture* nginx_;
};

Daemon* ScriptsPool::daemon_ = nullptr;
NginxFixture* ScriptsPool::nginx_ = nullptr;

TEST_P(ScriptsPool, WsgiScriptAnswersWithScriptNameAndPathInfo)
{
    const HttpResponse r = get("/hello.py/extra/x?name=you");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "Hello, you!\nSCRIPT_NAME=/hello.py\nPATH_INFO=/extra/x\n");
    const HttpResponse sub = get("/sub/info.py/more");
    EXPECT_EQ(sub.status, 200) << sub.body;
    EXPECT_EQ(sub.body, "SCRIPT_NAME=/sub/info.py\nPATH_INFO=/more\n");
}

TEST_P(ScriptsPool, CgiScriptReadsAPostedForm)
{
    const HttpResponse r = httpRequest("POST", url("/form.py"), "name=A%26B&colour=green&colour=blue",
                                       {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "colour=green,blue\nname=A&B\n");
}

TEST_P(ScriptsPool, EditedScriptIsServedWithoutARestart)
{
    const std::string name = own("edited.py");
    edit(name, "print('Content-Type: text/plain')\nprint()\nprint('first')\n");
    EXPECT_EQ(get("/" + name).body, "first\n");
    edit(name, "print('Content-Type: text/plain')\nprint()\nprint('again')\n");
    EXPECT_EQ(get("/" + name).body, "again\n");
}

TEST_P(ScriptsPool, DotDotAndSymlinkEscapesAreRefused)
{
    // Climbing above the root is refused by the front itself (400) or by
    // the worker (403/404); the secret never comes back.
    for (const char* path : {"/../secret.py", "/%2e%2e/secret.py", "/sub/%2e%2e/%2e%2e/secret.py",
                             "/sub/..%2f..%2fsecret.py"}) {
        const HttpResponse r = get(path);
        EXPECT_TRUE(r.status == 400 || r.status == 403 || r.status == 404) << path << " -> " << r.status;
        EXPECT_EQ(r.body.find("SECRET"), std::string::npos) << path;
    }
    EXPECT_EQ(get("/escape.py").status, 403);
    EXPECT_EQ(get("/up/secret.py").status, 403);
}

TEST_P(ScriptsPool, WrongExtensionIs403AndMissingIs404)
{
    const HttpResponse notes = get("/notes.txt");
    EXPECT_EQ(notes.status, 403);
    EXPECT_EQ(notes.body.find("not a script"), std::string::npos);
    EXPECT_EQ(get("/nope.py").status, 404);
}

TEST_P(ScriptsPool, ExceptionIs500AndTheNextRequestWorks)
{
    EXPECT_EQ(get("/fail.py").status, 500);
    EXPECT_EQ(get("/hello.py").status, 200);
    EXPECT_TRUE(daemon_->waitForLog("RuntimeError: scripts_test failure on purpose; answered 500", 5s))
        << daemon_->log();
}

TEST_P(ScriptsPool, CgiGlobalsDoNotLeakIntoTheNextRequest)
{
    for (int i = 0; i < 3; ++i) {
        const HttpResponse r = get("/counter.py");
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "hits=1\n") << "request " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(Fronts, ScriptsPool, ::testing::Values(Front::Bridge, Front::Nginx), frontName);

// SCRIPT_FILENAMEs that no front above would send, straight to the pool
// socket: the worker's own check is the last line.
TEST(ScriptsPoolDirect, CraftedScriptFilenamesAreRefusedByTheWorker)
{
    Daemon daemon(kScriptsConfig);
    const fs::path dir = daemon.dir();
    fs::copy(sourceRoot() / "test" / "daemon" / "apps" / "scripts", dir / "www", fs::copy_options::recursive);
    writeFile(dir / "secret.py", "print('Content-Type: text/plain')\nprint()\nprint('SECRET')\n");
    fs::create_symlink(dir / "secret.py", dir / "www" / "escape.py");
    daemon.start();
    ASSERT_TRUE(daemon.waitForLog("worker \\d+ ready")) << daemon.log();

    const std::string www = (dir / "www").string();
    struct Case {
        std::string scriptFilename;
        int status;
    };
    for (const Case& c : {Case{www + "/../secret.py", 403}, Case{www + "/sub/../../secret.py", 403},
                          Case{www + "/escape.py", 403}, Case{(dir / "secret.py").string(), 403},
                          Case{www + "/notes.txt", 403}, Case{www + "/hello.py", 200}}) {
        const FcgiResponse r =
            fcgiRequest(dir / "scripts.sock", cgiParams("GET", "/x", 0, {{"SCRIPT_FILENAME", c.scriptFilename}}));
        EXPECT_EQ(r.status, c.status) << c.scriptFilename;
        EXPECT_EQ(r.body.find("SECRET"), std::string::npos) << c.scriptFilename;
    }
    EXPECT_EQ(fcgiRequest(dir / "scripts.sock", cgiParams("GET", "/x")).status, 404);
    EXPECT_TRUE(daemon.waitForLog("outside the scripts root .*; answered 403")) << daemon.log();
}

std::string replaceAll(std::string text, const std::string& from, const std::string& to)
{
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

// examples/scripts as shipped, with the test's port and socket.
TEST(ScriptsExample, ConfigPassesTheCheckAndItsScriptsAnswer)
{
    const fs::path example = sourceRoot() / "examples" / "scripts";
    TempDir out;
    Child check({.argv = {requiredEnv("PYFPM_DAEMON"), "-t", "-c", (example / "pyfpm.yaml").string()},
                 .env = {}, .fds = {}, .stdoutFile = out / "check.txt", .stderrFile = out / "check.txt", .cwd = {}});
    const auto status = check.wait();
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(describeStatus(*status), "exit 0") << readFile(out / "check.txt");

    std::string yaml = readFile(example / "pyfpm.yaml");
    yaml = replaceAll(yaml, "127.0.0.1:8081", "127.0.0.1:{{port}}");
    yaml = replaceAll(yaml, "/tmp/pyfpm-scripts.sock", "{{dir}}/scripts.sock");
    yaml = replaceAll(yaml, "root: .", "root: {{source}}/examples/scripts");
    yaml = replaceAll(yaml, "pm: ondemand", "pm: static");
    Daemon daemon(yaml);
    daemon.start();
    ASSERT_TRUE(daemon.waitForLog("worker \\d+ ready")) << daemon.log();

    const fs::path socket = daemon.dir() / "scripts.sock";
    const FcgiResponse hello = fcgiRequest(
        socket, cgiParams("GET", "/hello.py/any?name=you",
                          0, {{"SCRIPT_FILENAME", (example / "hello.py").string()},
                              {"SCRIPT_NAME", "/hello.py"}, {"PATH_INFO", "/any"}}));
    EXPECT_EQ(hello.status, 200) << hello.stderrData;
    EXPECT_EQ(hello.body, "Hello, you!\nSCRIPT_NAME=/hello.py\nPATH_INFO=/any\n");

    const std::string body = "name=you&colour=green";
    const FcgiResponse form = fcgiRequest(
        socket, cgiParams("POST", "/form.py", body.size(),
                          {{"SCRIPT_FILENAME", (example / "form.py").string()},
                           {"CONTENT_TYPE", "application/x-www-form-urlencoded"}}),
        body);
    EXPECT_EQ(form.status, 200) << form.stderrData;
    EXPECT_NE(form.body.find("<p>Hello, you; you like green.</p>"), std::string::npos) << form.body;
    EXPECT_EQ(form.stderrData, "") << "no deprecation noise from the example";
}

}  // namespace
}  // namespace pyfpm::test
