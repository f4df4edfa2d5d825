// Where the dashboard's built files are: --web-dir when given, else next to the installed binary
// (PREFIX/bin/f0mesh -> PREFIX/share/f0mesh/web), else, for a binary run from its own build tree
// only, the source checkout's web/dist. An installed binary never looks at the build tree.
#pragma once

#include <filesystem>
#include <string>

namespace f0::cli {

struct WebDir {
    std::string path; // empty: none found (/ops/mesh then answers 404 saying so)
    std::string how;  // "--web-dir", "install prefix", "build tree", or why none was found
};

WebDir find_web_dir(const std::string& configured);
// The same rule with the executable's path given (for tests).
WebDir find_web_dir(const std::string& configured, const std::filesystem::path& exe);

} // namespace f0::cli
