#include "src/pyfpm/config/suggest.hpp"

#include <algorithm>
#include <vector>

namespace pyfpm::config {

std::size_t editDistance(std::string_view a, std::string_view b) {
    // Optimal string alignment: three rows of the dynamic-programming table.
    std::vector<std::size_t> beforePrevious(b.size() + 1), previous(b.size() + 1),
        current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t substitution = a[i - 1] == b[j - 1] ? 0 : 1;
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1,
                                   previous[j - 1] + substitution});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                current[j] = std::min(current[j], beforePrevious[j - 2] + 1);
        }
        std::swap(beforePrevious, previous);
        std::swap(previous, current);
    }
    return previous[b.size()];
}

std::optional<std::string> closestMatch(std::string_view name,
                                        std::span<const std::string_view> candidates) {
    std::size_t allowed = std::clamp<std::size_t>(name.size() / 3, 1, 3);
    std::optional<std::string> best;
    std::size_t bestDistance = allowed + 1;
    for (auto candidate : candidates) {
        auto distance = editDistance(name, candidate);
        if (distance < bestDistance) {
            bestDistance = distance;
            best = std::string{candidate};
        }
    }
    return best;
}

}  // namespace pyfpm::config
