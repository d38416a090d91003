// Where a request to a scripts pool finds its file
// (src/pyfpm/http/script_path.hpp): nginx's
// `fastcgi_split_path_info ^(.+?\.py)(/.*)$`, by path segments.
#include "src/pyfpm/http/script_path.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pyfpm::http {
namespace {

struct SplitCase {
    const char* path;
    const char* scriptPath;
    const char* pathInfo;
};

class SplitScriptPath : public ::testing::TestWithParam<SplitCase> {};

TEST_P(SplitScriptPath, splits_after_the_first_segment_with_an_extension)
{
    const SplitCase& c = GetParam();
    const ScriptPath split = splitScriptPath(c.path, {".py"});
    EXPECT_EQ(split.scriptPath, c.scriptPath) << c.path;
    EXPECT_EQ(split.pathInfo, c.pathInfo) << c.path;
}

INSTANTIATE_TEST_SUITE_P(
    Nginx, SplitScriptPath,
    ::testing::Values(SplitCase{"/sub/hello.py/extra/x", "/sub/hello.py", "/extra/x"},
                      SplitCase{"/hello.py", "/hello.py", ""},
                      SplitCase{"/hello.py/", "/hello.py", "/"},
                      SplitCase{"/a.py/b.py/c", "/a.py", "/b.py/c"},
                      SplitCase{"/a.pyx/b.py/c", "/a.pyx/b.py", "/c"},
                      // A segment that is only the extension names no script.
                      SplitCase{"/.py/x", "/.py/x", ""},
                      SplitCase{"/x.py.txt/y", "/x.py.txt/y", ""},
                      SplitCase{"/sub/page.html", "/sub/page.html", ""},
                      SplitCase{"/", "/", ""},
                      SplitCase{"", "", ""},
                      SplitCase{"/HELLO.PY/x", "/HELLO.PY/x", ""}));

TEST(SplitScriptPathExtensions, any_of_the_pools_extensions_splits)
{
    const std::vector<std::string> extensions{".py", ".cgi"};
    const ScriptPath split = splitScriptPath("/tools/run.cgi/a/b", extensions);
    EXPECT_EQ(split.scriptPath, "/tools/run.cgi");
    EXPECT_EQ(split.pathInfo, "/a/b");
    const ScriptPath first = splitScriptPath("/a.cgi/b.py/c", extensions);
    EXPECT_EQ(first.scriptPath, "/a.cgi");
    EXPECT_EQ(first.pathInfo, "/b.py/c");
}

TEST(SplitScriptPathExtensions, the_parts_view_the_input)
{
    const std::string path = "/hello.py/x";
    const ScriptPath split = splitScriptPath(path, {".py"});
    EXPECT_EQ(split.scriptPath.data(), path.data());
    EXPECT_EQ(split.pathInfo.data(), path.data() + 9);
}

}  // namespace
}  // namespace pyfpm::http
