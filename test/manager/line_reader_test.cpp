// Worker pipes read line by line: how lines are cut, and what a worker that
// never writes a newline can cost the daemon.
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "manager/line_reader.hpp"
#include "test/manager/loop_helpers.hpp"

namespace pyfpm::manager {
namespace {

class LineReaderTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        int fds[2];
        ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
        writeEnd_.reset(fds[1]);
        reader_ = std::make_unique<LineReader>(base_.get(), UniqueFd(fds[0]),
                                               [this](std::string_view line) { lines_.emplace_back(line); });
    }

    void write(const std::string& data)
    {
        ASSERT_EQ(::write(writeEnd_.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
    }

    testing::EventBasePtr base_ = testing::makeEventBase();
    UniqueFd writeEnd_;
    std::vector<std::string> lines_;
    std::unique_ptr<LineReader> reader_;
};

TEST_F(LineReaderTest, splits_lines_and_strips_crlf)
{
    write("ready\nTraceback (most recent call last):\r\n  File");
    reader_->drain();
    EXPECT_EQ(lines_, (std::vector<std::string>{"ready", "Traceback (most recent call last):"}));
    write(" \"app.py\"\n");
    reader_->drain();
    EXPECT_EQ(lines_.back(), "  File \"app.py\"");
    EXPECT_FALSE(reader_->atEof());
}

TEST_F(LineReaderTest, hands_over_an_unterminated_last_line_at_eof)
{
    write("one\nlast words");
    writeEnd_.reset();
    reader_->drain();
    EXPECT_EQ(lines_, (std::vector<std::string>{"one", "last words"}));
    EXPECT_TRUE(reader_->atEof());
}

TEST_F(LineReaderTest, cuts_overlong_lines_into_bounded_pieces)
{
    write(std::string(LineReader::kMaxLine + 10, 'x') + "\n");
    reader_->drain();
    ASSERT_EQ(lines_.size(), 2u);
    EXPECT_EQ(lines_[0].size(), LineReader::kMaxLine);
    EXPECT_EQ(lines_[1], std::string(10, 'x'));
}

TEST_F(LineReaderTest, reads_when_the_loop_sees_the_pipe_readable)
{
    write("from the loop\n");
    ASSERT_TRUE(testing::runUntil(base_.get(), [&] { return !lines_.empty(); }, std::chrono::seconds(5)));
    EXPECT_EQ(lines_.front(), "from the loop");
}

}  // namespace
}  // namespace pyfpm::manager
