// Runs the fuzz target over every file of the corpus folder as a GoogleTest
// case, so builds without libFuzzer still exercise it.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>

#include "test/support/process.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

TEST(FuzzCorpus, EveryInputIsHandled) {
    const auto dir = pyfpm::test::sourceRoot() / "test/fcgi/corpus";
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const std::string data = pyfpm::test::readFile(entry.path());
        EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data.data()),
                                         data.size()),
                  0)
            << entry.path();
        ++files;
    }
    EXPECT_GE(files, 5);
}
