// Which files a scripts pool may run (src/worker/script_check.hpp), on a
// real folder with symlinks, and the worker's --scripts options.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "src/worker/options.hpp"
#include "src/worker/script_check.hpp"
#include "src/worker/script_host.hpp"
#include "test/support/process.hpp"

namespace pyfpm::worker {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using test::writeFile;

const std::vector<std::string> kPy{".py"};

TEST(ScriptPathCheck, below_compares_whole_components)
{
    EXPECT_TRUE(isBelow("/srv/www", "/srv/www/a.py"));
    EXPECT_TRUE(isBelow("/srv/www", "/srv/www/sub/a.py"));
    EXPECT_TRUE(isBelow("/srv/www/", "/srv/www/a.py"));
    EXPECT_TRUE(isBelow("/", "/a.py"));
    EXPECT_FALSE(isBelow("/srv/www", "/srv/wwwx/a.py"));
    EXPECT_FALSE(isBelow("/srv/www", "/srv/ww"));
    EXPECT_FALSE(isBelow("/srv/www", "/srv/www"));
    EXPECT_FALSE(isBelow("/srv/www", "/srv"));
    EXPECT_FALSE(isBelow("/srv/www", "/etc/passwd"));
}

TEST(ScriptPathCheck, extension_is_the_end_of_the_last_component)
{
    EXPECT_TRUE(hasScriptExtension("/srv/www/hello.py", kPy));
    EXPECT_TRUE(hasScriptExtension("hello.py", kPy));
    EXPECT_FALSE(hasScriptExtension("/srv/www/hello.pyc", kPy));
    EXPECT_FALSE(hasScriptExtension("/srv/www/hello.py/", kPy));
    EXPECT_FALSE(hasScriptExtension("/srv/www.py/hello", kPy));
    EXPECT_FALSE(hasScriptExtension("/srv/www/.py", kPy));
    EXPECT_FALSE(hasScriptExtension("/srv/www/HELLO.PY", kPy));
    EXPECT_TRUE(hasScriptExtension("/srv/www/run.cgi", {".py", ".cgi"}));
}

TEST(ScriptPathCheck, refusals_answer_404_or_403)
{
    EXPECT_EQ(statusLine(Refusal::NoScriptFilename), "404 Not Found");
    EXPECT_EQ(statusLine(Refusal::Missing), "404 Not Found");
    EXPECT_EQ(statusLine(Refusal::RootMissing), "404 Not Found");
    for (Refusal refusal : {Refusal::Unresolvable, Refusal::OutsideRoot, Refusal::Extension, Refusal::NotRegularFile}) {
        EXPECT_EQ(statusLine(refusal), "403 Forbidden");
    }
}

class ScriptFolder : public ::testing::Test {
protected:
    void SetUp() override
    {
        fs::create_directories(root() / "sub");
        fs::create_directories(root() / "folder.py");
        writeFile(root() / "hello.py", "print('hi')\n");
        writeFile(root() / "sub" / "deep.py", "print('deep')\n");
        writeFile(root() / "notes.txt", "notes\n");
        writeFile(dir_ / "secret.py", "print('secret')\n");
        fs::create_symlink(dir_ / "secret.py", root() / "escape.py");
        fs::create_symlink(dir_.path(), root() / "up");
        fs::create_symlink(root() / "hello.py", root() / "alias.py");
        fs::create_symlink(root() / "notes.txt", root() / "notes.py");
        fs::create_symlink(root() / "hello.py", root() / "hello.txt");
    }

    fs::path root() const { return dir_ / "www"; }

    Refusal refusal(const std::string& scriptFilename) const
    {
        const auto checked = checkScript(scriptFilename.c_str(), root(), kPy);
        const auto* refused = std::get_if<ScriptRefused>(&checked);
        EXPECT_NE(refused, nullptr) << scriptFilename << " was allowed";
        return refused != nullptr ? refused->refusal : Refusal::NoScriptFilename;
    }

    TempDir dir_;
};

TEST_F(ScriptFolder, a_script_below_the_root_is_allowed_with_its_realpath)
{
    const auto checked = checkScript((root() / "sub" / "deep.py").c_str(), root(), kPy);
    ASSERT_TRUE(std::holds_alternative<ScriptFile>(checked));
    const auto& file = std::get<ScriptFile>(checked);
    EXPECT_EQ(file.path, fs::canonical(root() / "sub" / "deep.py"));
    EXPECT_EQ(file.identity.size, 14);
    EXPECT_NE(file.identity.inode, 0u);
}

TEST_F(ScriptFolder, a_symlink_that_stays_inside_is_allowed_as_its_target)
{
    const auto checked = checkScript((root() / "alias.py").c_str(), root(), kPy);
    ASSERT_TRUE(std::holds_alternative<ScriptFile>(checked));
    EXPECT_EQ(std::get<ScriptFile>(checked).path, fs::canonical(root() / "hello.py"));
}

TEST_F(ScriptFolder, dot_dot_and_symlinks_out_of_the_root_are_refused)
{
    EXPECT_EQ(refusal((root() / ".." / "secret.py").string()), Refusal::OutsideRoot);
    EXPECT_EQ(refusal((root() / "sub" / ".." / ".." / "secret.py").string()), Refusal::OutsideRoot);
    EXPECT_EQ(refusal((root() / "escape.py").string()), Refusal::OutsideRoot);
    EXPECT_EQ(refusal((root() / "up" / "secret.py").string()), Refusal::OutsideRoot);
    EXPECT_EQ(refusal((dir_ / "secret.py").string()), Refusal::OutsideRoot);
    EXPECT_EQ(refusal("/etc/passwd"), Refusal::OutsideRoot);
}

TEST_F(ScriptFolder, missing_files_are_404)
{
    EXPECT_EQ(refusal((root() / "nope.py").string()), Refusal::Missing);
    EXPECT_EQ(refusal((root() / "hello.py" / "extra").string()), Refusal::Missing);
    EXPECT_EQ(refusal(""), Refusal::NoScriptFilename);
    const auto checked = checkScript(nullptr, root(), kPy);
    ASSERT_TRUE(std::holds_alternative<ScriptRefused>(checked));
    EXPECT_EQ(std::get<ScriptRefused>(checked).refusal, Refusal::NoScriptFilename);
    const auto noRoot = checkScript((root() / "hello.py").c_str(), dir_ / "gone", kPy);
    ASSERT_TRUE(std::holds_alternative<ScriptRefused>(noRoot));
    EXPECT_EQ(std::get<ScriptRefused>(noRoot).refusal, Refusal::RootMissing);
}

TEST_F(ScriptFolder, wrong_extensions_are_refused_on_either_side_of_a_symlink)
{
    EXPECT_EQ(refusal((root() / "notes.txt").string()), Refusal::Extension);
    // A .py name for a data file, and a .txt name for a script.
    EXPECT_EQ(refusal((root() / "notes.py").string()), Refusal::Extension);
    EXPECT_EQ(refusal((root() / "hello.txt").string()), Refusal::Extension);
    const auto checked = checkScript((root() / "notes.txt").c_str(), root(), {".py", ".txt"});
    EXPECT_TRUE(std::holds_alternative<ScriptFile>(checked));
}

TEST_F(ScriptFolder, a_folder_named_like_a_script_is_not_a_regular_file)
{
    EXPECT_EQ(refusal((root() / "folder.py").string()), Refusal::NotRegularFile);
}

TEST_F(ScriptFolder, the_root_itself_may_be_a_symlink)
{
    fs::create_symlink(root(), dir_ / "current");
    const auto checked = checkScript((dir_ / "current" / "hello.py").c_str(), dir_ / "current", kPy);
    EXPECT_TRUE(std::holds_alternative<ScriptFile>(checked));
}

TEST_F(ScriptFolder, a_change_shows_in_the_identity)
{
    const fs::path script = root() / "hello.py";
    const auto before = std::get<ScriptFile>(checkScript(script.c_str(), root(), kPy)).identity;
    // Same size, and an mtime moved on explicitly: no waiting for the clock.
    writeFile(script, "print('ho')\n");
    fs::last_write_time(script, fs::last_write_time(script) + std::chrono::seconds(2));
    const auto edited = std::get<ScriptFile>(checkScript(script.c_str(), root(), kPy)).identity;
    EXPECT_NE(edited, before);
    EXPECT_EQ(edited.size, before.size);
    // A new file renamed into place with the old mtime: a new inode.
    writeFile(root() / "next.tmp", "print('hu')\n");
    fs::last_write_time(root() / "next.tmp", fs::last_write_time(script));
    fs::rename(root() / "next.tmp", script);
    const auto replaced = std::get<ScriptFile>(checkScript(script.c_str(), root(), kPy)).identity;
    EXPECT_EQ(replaced.mtimeNs, edited.mtimeNs);
    EXPECT_NE(replaced, edited);
}

TEST(ScriptModuleName, is_stable_and_differs_per_path)
{
    EXPECT_EQ(scriptModuleName("/srv/www/hello.py"), scriptModuleName("/srv/www/hello.py"));
    EXPECT_NE(scriptModuleName("/srv/www/hello.py"), scriptModuleName("/srv/www/hello2.py"));
    EXPECT_EQ(scriptModuleName("/srv/www/hello.py").rfind("_pyfpm_script_", 0), 0u);
    EXPECT_EQ(scriptModuleName("/x").size(), std::string("_pyfpm_script_").size() + 16);
}

std::variant<WorkerOptions, int> parse(std::vector<std::string> arguments)
{
    arguments.insert(arguments.begin(), "pyfpm-worker");
    std::vector<char*> argv;
    for (auto& argument : arguments) {
        argv.push_back(argument.data());
    }
    return parseOptions(static_cast<int>(argv.size()), argv.data());
}

TEST(ScriptOptions, scripts_default_to_py)
{
    const auto parsed = parse({"--scripts", "/srv/www"});
    ASSERT_TRUE(std::holds_alternative<WorkerOptions>(parsed));
    const auto& options = std::get<WorkerOptions>(parsed);
    EXPECT_EQ(options.scriptsRoot, "/srv/www");
    EXPECT_EQ(options.scriptExtensions, std::vector<std::string>{".py"});
    EXPECT_EQ(options.app, "");
}

TEST(ScriptOptions, extensions_repeat)
{
    const auto parsed = parse({"--scripts", "www", "--script-extension", ".py", "--script-extension", ".cgi"});
    ASSERT_TRUE(std::holds_alternative<WorkerOptions>(parsed));
    EXPECT_EQ(std::get<WorkerOptions>(parsed).scriptExtensions, (std::vector<std::string>{".py", ".cgi"}));
}

TEST(ScriptOptions, exactly_one_of_app_and_scripts_else_usage_error)
{
    for (const auto& arguments : std::vector<std::vector<std::string>>{
             {},
             {"--pool", "www"},
             {"--app", "app:app", "--scripts", "/srv/www"},
             {"--script-extension", ".py"},
             {"--app", "app:app", "--script-extension", ".py"},
             {"--scripts", ""},
             {"--scripts", "/srv/www", "--script-extension", "py"},
             {"--scripts", "/srv/www", "--script-extension", "."},
             {"--scripts", "/srv/www", "--script-extension", ".p/y"}}) {
        const auto parsed = parse(arguments);
        ASSERT_TRUE(std::holds_alternative<int>(parsed)) << ::testing::PrintToString(arguments);
        EXPECT_EQ(std::get<int>(parsed), 2) << ::testing::PrintToString(arguments);
    }
}

}  // namespace
}  // namespace pyfpm::worker
