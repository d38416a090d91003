// Pass one of loading: every key of pyfpm.yaml(5), table by table, each value
// parsed and checked on its own. Internal to the loader.
#pragma once

#include <yaml-cpp/yaml.h>

#include "src/pyfpm/config/config.hpp"
#include "src/pyfpm/config/schema.hpp"

namespace pyfpm::config {

// Reads the document's root mapping. Errors go to `context`; the result is
// filled as far as the values allow (defaults elsewhere), and every list
// element and pool is kept, valid or not, so that indexes match key paths
// ("http.routes[1]") in the cross-key pass.
Config readConfig(const YAML::Node& root, Context& context);

}  // namespace pyfpm::config
