// "Did you mean ...?" for unknown keys and names: the closest candidate by
// edit distance, if it is close enough to be a plausible typo.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pyfpm::config {

// Levenshtein distance (insertions, deletions, substitutions), plus
// transposition of two adjacent characters counted as one edit, as typos go.
std::size_t editDistance(std::string_view a, std::string_view b);

// The candidate nearest to `name`, if at most a third of its length (and at
// least 1, at most 3) edits away; on a tie, the first in `candidates`.
std::optional<std::string> closestMatch(std::string_view name,
                                        std::span<const std::string_view> candidates);

}  // namespace pyfpm::config
