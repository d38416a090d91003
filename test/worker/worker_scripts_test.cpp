// pyfpm-worker --scripts: php-fpm's model for Python files, driven through
// the project's FastCGI client with SCRIPT_FILENAME set as nginx's
// `$document_root$fastcgi_script_name` sets it. One worker for most of the
// suite, serving a copy of test/worker/apps/scripts in a temp dir (tests
// edit files there), so what one request leaves behind is visible to the
// next.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "test/support/fcgi_client.hpp"
#include "manager/scoreboard.hpp"
#include "test/support/process.hpp"
#include "test/worker/scoreboard_worker.hpp"
#include "test/worker/worker_process.hpp"

namespace pyfpm::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A temp dir holding www/ (a copy of the test scripts, the root), a secret
// script outside it, and symlinks that try to reach it.
class ScriptTree {
public:
    ScriptTree()
    {
        fs::copy(WorkerProcess::testApps() / "scripts", root(), fs::copy_options::recursive);
        writeFile(dir_ / "secret.py", "print('Content-Type: text/plain')\nprint()\nprint('SECRET')\n");
        fs::create_symlink(dir_ / "secret.py", root() / "escape.py");
        fs::create_symlink(dir_.path(), root() / "up");
        fs::create_directories(root() / "folder.py");
    }
    fs::path root() const { return dir_ / "www"; }
    fs::path outside() const { return dir_.path(); }

private:
    TempDir dir_;
};

WorkerProcess::Options scriptsWorker(const ScriptTree& tree, std::vector<std::string> extraArgs = {})
{
    std::vector<std::string> arguments{"--scripts", tree.root().string()};
    arguments.insert(arguments.end(), extraArgs.begin(), extraArgs.end());
    return WorkerProcess::Options{"", {}, std::move(arguments), {}, {}};
}

// The params nginx sends for GET/POST /NAME with
// `fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name`.
Params scriptParams(const fs::path& root, const std::string& method, const std::string& script,
                    std::size_t bodyLength = 0, const Params& extra = {})
{
    Params params = cgiParams(method, "/" + script, bodyLength,
                              {{"SCRIPT_NAME", "/" + script},
                               {"PATH_INFO", ""},
                               {"SCRIPT_FILENAME", (root / script).string()},
                               {"DOCUMENT_ROOT", root.string()}});
    for (const auto& [name, value] : extra) {
        bool replaced = false;
        for (auto& param : params) {
            if (param.first == name) {
                param.second = value;
                replaced = true;
            }
        }
        if (!replaced) {
            params.emplace_back(name, value);
        }
    }
    return params;
}

class Scripts : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        tree_ = std::make_unique<ScriptTree>();
        worker_ = std::make_unique<WorkerProcess>(scriptsWorker(*tree_));
        ASSERT_TRUE(worker_->waitReady()) << worker_->stderrLog();
    }
    static void TearDownTestSuite()
    {
        worker_.reset();
        tree_.reset();
    }
    void SetUp() override
    {
        if (!worker_ || !worker_->process().running()) {
            GTEST_SKIP() << "the scripts worker is not running";
        }
    }

    static fs::path root() { return tree_->root(); }
    static FcgiResponse get(const std::string& script, const Params& extra = {})
    {
        return fcgiRequest(worker_->socket(), scriptParams(root(), "GET", script, 0, extra));
    }
    static FcgiResponse post(const std::string& script, const std::string& body, const Params& extra = {})
    {
        return fcgiRequest(worker_->socket(), scriptParams(root(), "POST", script, body.size(), extra), body);
    }
    static json getJson(const std::string& script, const Params& extra = {})
    {
        const FcgiResponse response = get(script, extra);
        EXPECT_EQ(response.status, 200) << response.body << response.stderrData;
        return json::parse(response.body, nullptr, false);
    }
    // Rewrites `script` and moves its mtime on explicitly, so that the
    // change shows even within the same second (and at the same size).
    static void edit(const std::string& script, const std::string& content)
    {
        const fs::path path = root() / script;
        const bool existed = fs::exists(path);
        const auto before = existed ? fs::last_write_time(path) : fs::file_time_type::clock::now();
        writeFile(path, content);
        fs::last_write_time(path, before + std::chrono::seconds(2));
    }

    static std::unique_ptr<ScriptTree> tree_;
    static std::unique_ptr<WorkerProcess> worker_;
};

std::unique_ptr<ScriptTree> Scripts::tree_;
std::unique_ptr<WorkerProcess> Scripts::worker_;

TEST_F(Scripts, wsgi_script_keeps_its_module_namespace_and_never_runs_as_main)
{
    const json first = getJson("wsgi_state.py", {{"SCRIPT_NAME", "/app/wsgi_state.py"}, {"PATH_INFO", "/a/b"}});
    const json second = getJson("wsgi_state.py");
    EXPECT_EQ(second["calls"].get<int>(), first["calls"].get<int>() + 1);
    EXPECT_EQ(first["name"].get<std::string>().rfind("_pyfpm_script_", 0), 0u) << first.dump();
    EXPECT_FALSE(first["ran_as_main"].get<bool>());
    EXPECT_EQ(first["file"], fs::canonical(root() / "wsgi_state.py").string());
    EXPECT_EQ(first["sys_path_0"], fs::canonical(root()).string());
    EXPECT_EQ(first["script_name"], "/app/wsgi_state.py");
    EXPECT_EQ(first["path_info"], "/a/b");
    EXPECT_TRUE(first["stdout_is_worker"].get<bool>());
}

TEST_F(Scripts, cgi_script_gets_fresh_globals_and_the_request_in_os_environ)
{
    for (int round = 0; round < 2; ++round) {
        const json seen = getJson("cgi_env.py", {{"QUERY_STRING", "a=1&b=2"},
                                                 {"HTTP_X_PROBE", "probe value"},
                                                 {"HTTP_PROXY", "http://evil.example:3128"}});
        EXPECT_EQ(seen["name"], "__main__");
        EXPECT_TRUE(seen["main_is_this"].get<bool>());
        EXPECT_EQ(seen["file"], fs::canonical(root() / "cgi_env.py").string());
        EXPECT_FALSE(seen["saw_global"].get<bool>()) << "round " << round;
        EXPECT_EQ(seen["argv"], json::array({seen["file"]})) << "round " << round;
        EXPECT_EQ(seen["cwd"], fs::canonical(root()).string());
        EXPECT_EQ(seen["sys_path_0"], fs::canonical(root()).string());
        const json& environ = seen["environ"];
        EXPECT_EQ(environ["REQUEST_METHOD"], "GET");
        EXPECT_EQ(environ["QUERY_STRING"], "a=1&b=2");
        EXPECT_EQ(environ["HTTP_X_PROBE"], "probe value");
        EXPECT_EQ(environ["SCRIPT_FILENAME"], (root() / "cgi_env.py").string());
        EXPECT_TRUE(environ["HTTP_PROXY"].is_null()) << "httpoxy";
        EXPECT_TRUE(environ["LEFT_BY_SCRIPT"].is_null()) << "round " << round;
        EXPECT_EQ(environ["PYFPM_TEST_DIR"], worker_->dir().string()) << "the worker's own environment";
        EXPECT_EQ(seen["stdin_encoding"], "utf-8");
        EXPECT_EQ(seen["stdout_encoding"], "utf-8");
    }
}

TEST_F(Scripts, cgi_state_is_put_back_for_the_rest_of_the_worker)
{
    ASSERT_EQ(get("cgi_env.py").status, 200);
    const FcgiResponse where = get("sub/where.py");
    ASSERT_EQ(where.status, 200) << where.stderrData;
    const std::string sub = fs::canonical(root() / "sub").string();
    EXPECT_EQ(where.body, sub + "\n" + sub + "\n");
    // The worker's own sys.path, working directory and stdout are back.
    const json after = getJson("wsgi_state.py");
    EXPECT_EQ(after["sys_path_0"], fs::canonical(root()).string());
    EXPECT_TRUE(after["stdout_is_worker"].get<bool>());
    const json again = getJson("cgi_env.py");
    EXPECT_EQ(again["sys_path_0"], fs::canonical(root()).string());
}

TEST_F(Scripts, cgi_script_imports_from_its_folder)
{
    const FcgiResponse response = get("cgi_import.py");
    EXPECT_EQ(response.status, 200) << response.stderrData;
    EXPECT_EQ(response.body, "helper module value\n");
}

TEST_F(Scripts, posted_form_is_read_by_cgi_field_storage)
{
    const FcgiResponse urlencoded = post("cgi_form.py", "name=A%26B&colour=green&colour=blue",
                                         {{"CONTENT_TYPE", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(urlencoded.status, 201) << urlencoded.stderrData;
    EXPECT_EQ(json::parse(urlencoded.body),
              (json{{"name", "A&B"}, {"colour", json::array({"green", "blue"})}}));

    const std::string boundary = "pyfpmBoundary7MA4YWxk";
    const std::string upload(100000, 'u');
    const std::string body = "--" + boundary + "\r\n" +
                             "Content-Disposition: form-data; name=\"title\"\r\n\r\n" + "a title\r\n" +
                             "--" + boundary + "\r\n" +
                             "Content-Disposition: form-data; name=\"file\"; filename=\"up.bin\"\r\n" +
                             "Content-Type: application/octet-stream\r\n\r\n" + upload + "\r\n" +
                             "--" + boundary + "--\r\n";
    const FcgiResponse multipart =
        post("cgi_form.py", body, {{"CONTENT_TYPE", "multipart/form-data; boundary=" + boundary}});
    EXPECT_EQ(multipart.status, 201) << multipart.stderrData;
    EXPECT_EQ(json::parse(multipart.body),
              (json{{"title", "a title"}, {"file", {{"filename", "up.bin"}, {"size", upload.size()}}}}));
}

TEST_F(Scripts, binary_body_goes_through_stdin_buffer_and_stdout_buffer_byte_exact)
{
    // Larger than what the worker holds back, so the answer streams.
    std::string body(3 * 1024 * 1024, '\0');
    std::mt19937 random(7);
    for (char& c : body) {
        c = static_cast<char>(random());
    }
    const FcgiResponse response = post("cgi_echo.py", body);
    EXPECT_EQ(response.status, 200) << response.stderrData;
    ASSERT_EQ(response.body.size(), body.size());
    EXPECT_TRUE(response.body == body);
}

TEST_F(Scripts, edited_cgi_script_is_compiled_again_without_a_restart)
{
    const auto script = [](const std::string& version) {
        return "print('Content-Type: text/plain')\nprint()\nprint('" + version + "')\n";
    };
    edit("edited.py", script("v1"));
    EXPECT_EQ(get("edited.py").body, "v1\n");
    edit("edited.py", script("v2"));  // same size
    EXPECT_EQ(get("edited.py").body, "v2\n");
    // Replaced by a rename, with the old mtime: a new inode.
    writeFile(root() / "edited.tmp", script("v3"));
    fs::last_write_time(root() / "edited.tmp", fs::last_write_time(root() / "edited.py"));
    fs::rename(root() / "edited.tmp", root() / "edited.py");
    EXPECT_EQ(get("edited.py").body, "v3\n");
}

TEST_F(Scripts, edited_wsgi_script_is_executed_again_into_a_new_namespace)
{
    const auto script = [](const std::string& version) {
        return "calls = 0\n"
               "def application(environ, start_response):\n"
               "    global calls\n"
               "    calls += 1\n"
               "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
               "    return [b'" + version + " %d' % calls]\n";
    };
    edit("edited_wsgi.py", script("one"));
    EXPECT_EQ(get("edited_wsgi.py").body, "one 1");
    EXPECT_EQ(get("edited_wsgi.py").body, "one 2");
    edit("edited_wsgi.py", script("two"));
    EXPECT_EQ(get("edited_wsgi.py").body, "two 1");
    // From WSGI to CGI: the file decides each time it changes.
    edit("edited_wsgi.py", "print('Content-Type: text/plain')\nprint()\nprint('now cgi')\n");
    EXPECT_EQ(get("edited_wsgi.py").body, "now cgi\n");
}

TEST_F(Scripts, exception_answers_500_with_the_traceback_and_the_next_request_works)
{
    const FcgiResponse failed = get("cgi_fail.py");
    EXPECT_EQ(failed.status, 500);
    EXPECT_EQ(failed.body.find("partial page"), std::string::npos) << "held-back output is dropped";
    EXPECT_NE(failed.stderrData.find("Traceback"), std::string::npos) << failed.stderrData;
    EXPECT_NE(failed.stderrData.find("ValueError: cgi script failed on purpose"), std::string::npos);
    EXPECT_TRUE(waitUntil([] {
        return worker_->stderrLog().find("ValueError: cgi script failed on purpose; answered 500") !=
               std::string::npos;
    })) << worker_->stderrLog();
    EXPECT_EQ(get("cgi_env.py").status, 200);
}

TEST_F(Scripts, compile_errors_and_bad_applications_answer_500)
{
    const FcgiResponse syntax = get("syntax_error.py");
    EXPECT_EQ(syntax.status, 500);
    EXPECT_NE(syntax.stderrData.find("SyntaxError"), std::string::npos) << syntax.stderrData;
    EXPECT_NE(syntax.stderrData.find("syntax_error.py"), std::string::npos) << syntax.stderrData;
    const FcgiResponse notCallable = get("not_callable.py");
    EXPECT_EQ(notCallable.status, 500);
    EXPECT_NE(notCallable.stderrData.find("not a WSGI callable"), std::string::npos) << notCallable.stderrData;
    const FcgiResponse silent = get("cgi_silent.py");
    EXPECT_EQ(silent.status, 500);
    EXPECT_NE(silent.stderrData.find("wrote no response"), std::string::npos) << silent.stderrData;
    EXPECT_EQ(get("wsgi_state.py").status, 200);
}

TEST_F(Scripts, failure_after_the_held_back_output_cuts_the_response_short)
{
    const FcgiResponse response = get("cgi_fail_late.py");
    EXPECT_EQ(response.status, 200);
    // Everything written before the failure went out; FCGI_END_REQUEST
    // says the response is not whole.
    EXPECT_EQ(response.body.size(), std::size_t{2} << 20);
    EXPECT_EQ(response.end.appStatus, 1u);
    EXPECT_NE(response.stderrData.find("RuntimeError: cgi script failed after streaming"), std::string::npos);
    const FcgiResponse next = get("cgi_env.py");
    EXPECT_EQ(next.status, 200);
    EXPECT_EQ(next.end.appStatus, 0u) << "the next request is whole again";
}

TEST_F(Scripts, sys_exit_zero_or_none_ends_normally_other_codes_fail)
{
    for (const char* code : {"0", "none"}) {
        const FcgiResponse response = get("cgi_exit.py", {{"QUERY_STRING", code}});
        EXPECT_EQ(response.status, 200) << code << response.stderrData;
        EXPECT_EQ(response.body, "before exit\n") << code;
    }
    for (const char* code : {"3", "message"}) {
        const FcgiResponse response = get("cgi_exit.py", {{"QUERY_STRING", code}});
        EXPECT_EQ(response.status, 500) << code;
        EXPECT_NE(response.stderrData.find("SystemExit"), std::string::npos) << code;
    }
    EXPECT_TRUE(worker_->process().running());
}

TEST_F(Scripts, files_outside_the_root_or_not_scripts_are_refused_and_logged)
{
    struct Case {
        std::string scriptFilename;
        int status;
    };
    const std::string r = root().string();
    for (const Case& c : std::vector<Case>{
             {r + "/nope.py", 404},
             {r + "/cgi_env.py/extra", 404},
             {r + "/../secret.py", 403},
             {r + "/sub/../../secret.py", 403},
             {r + "/escape.py", 403},
             {r + "/up/secret.py", 403},
             {tree_->outside().string() + "/secret.py", 403},
             {r + "/notes.txt", 403},
             {r + "/folder.py", 403},
         }) {
        const FcgiResponse response = fcgiRequest(
            worker_->socket(), cgiParams("GET", "/probe", 0, {{"SCRIPT_FILENAME", c.scriptFilename}}));
        EXPECT_EQ(response.status, c.status) << c.scriptFilename;
        EXPECT_EQ(response.body.find("SECRET"), std::string::npos) << c.scriptFilename;
    }
    const FcgiResponse none = fcgiRequest(worker_->socket(), cgiParams("GET", "/no-script-filename"));
    EXPECT_EQ(none.status, 404);
    EXPECT_TRUE(waitUntil([] {
        const std::string log = worker_->stderrLog();
        return log.find("outside the scripts root") != std::string::npos &&
               log.find("/escape.py: resolves to") != std::string::npos &&
               log.find("/notes.txt: resolves to") != std::string::npos &&
               log.find("no SCRIPT_FILENAME param; answered 404") != std::string::npos;
    })) << worker_->stderrLog();
}

TEST_F(Scripts, cgi_response_names_the_worker_when_the_bridge_asks)
{
    const FcgiResponse named = get("cgi_import.py", {{"PYFPM_WORKER_HEADER", "1"}});
    EXPECT_EQ(named.header("X-Pyfpm-Worker"), std::to_string(worker_->process().pid()));
    EXPECT_EQ(named.body, "helper module value\n");
    const FcgiResponse refused = get("notes.txt", {{"PYFPM_WORKER_HEADER", "1"}});
    EXPECT_EQ(refused.status, 403);
    EXPECT_EQ(refused.header("X-Pyfpm-Worker"), std::to_string(worker_->process().pid()));
    EXPECT_EQ(get("cgi_import.py").header("X-Pyfpm-Worker"), "");
}

TEST(ScriptsWorker, max_requests_asks_for_a_recycle_as_in_app_mode)
{
    ScriptTree tree;
    WorkerProcess worker(scriptsWorker(tree, {"--max-requests", "2"}));
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(fcgiRequest(worker.socket(), scriptParams(tree.root(), "GET", "cgi_import.py")).status, 200);
    }
    EXPECT_TRUE(worker.waitNotify("recycle max_requests 2\n")) << worker.stderrLog();
}

TEST(ScriptsWorker, scoreboard_shows_the_script_request_busy_then_counted)
{
    ScriptTree tree;
    ScoreboardWorker scored("", {"--scripts", tree.root().string()});
    WorkerProcess& worker = scored.worker();
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    ASSERT_TRUE(scored.waitSlot([](const manager::SlotSnapshot& s) { return s.state == manager::SlotState::Idle; }));
    auto response = std::async(std::launch::async, [&] {
        return fcgiRequest(worker.socket(), scriptParams(tree.root(), "GET", "cgi_slow.py"), {}, 30s);
    });
    ASSERT_TRUE(waitUntil([&] { return fs::exists(worker.dir() / "slow-started"); })) << worker.stderrLog();
    const auto busy = scored.slot();
    ASSERT_TRUE(busy);
    EXPECT_EQ(busy->state, manager::SlotState::Busy);
    EXPECT_EQ(busy->method, "GET");
    EXPECT_EQ(busy->uri, "/cgi_slow.py");
    writeFile(worker.dir() / "slow-release", "go");
    EXPECT_EQ(response.get().status, 200);
    EXPECT_TRUE(scored.waitSlot([](const manager::SlotSnapshot& s) {
        return s.requests == 1 && s.state == manager::SlotState::Idle;
    }));
}

TEST(ScriptsWorker, sigusr2_writes_the_running_scripts_stack_to_the_slowlog)
{
    ScriptTree tree;
    TempDir logs;
    const fs::path slowlog = logs / "slow.log";
    WorkerProcess worker(scriptsWorker(tree, {"--slowlog", slowlog.string()}));
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    auto response = std::async(std::launch::async, [&] {
        return fcgiRequest(worker.socket(), scriptParams(tree.root(), "GET", "cgi_slow.py"), {}, 30s);
    });
    ASSERT_TRUE(waitUntil([&] { return fs::exists(worker.dir() / "slow-started"); })) << worker.stderrLog();
    worker.process().signal(SIGUSR2);
    EXPECT_TRUE(waitUntil([&] { return readFile(slowlog).find("cgi_slow.py") != std::string::npos; }))
        << readFile(slowlog);
    writeFile(worker.dir() / "slow-release", "go");
    const FcgiResponse done = response.get();
    EXPECT_EQ(done.status, 200) << done.stderrData;
    EXPECT_EQ(done.body, "slow done\n");
}

TEST(ScriptsWorker, a_root_that_is_not_a_folder_is_a_usage_error)
{
    TempDir dir;
    WorkerProcess worker(WorkerProcess::Options{"", {}, {"--scripts", (dir / "missing").string()}, {}, {}});
    const auto status = worker.process().wait(10s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(describeStatus(*status), "exit 2") << worker.stderrLog();
    EXPECT_NE(worker.stderrLog().find("not a folder"), std::string::npos) << worker.stderrLog();
}

}  // namespace
}  // namespace pyfpm::test
