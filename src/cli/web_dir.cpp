#include "cli/web_dir.hpp"

#include <system_error>

namespace f0::cli {

namespace {
bool has_index(const std::filesystem::path& dir) {
    std::error_code ec;
    return std::filesystem::is_regular_file(dir / "index.html", ec);
}

// `inner` is `outer` or below it (both made absolute and normal).
bool within(const std::filesystem::path& inner, const std::filesystem::path& outer) {
    auto i = inner.lexically_normal(), o = outer.lexically_normal();
    auto [oe, ie] = std::mismatch(o.begin(), o.end(), i.begin(), i.end());
    return oe == o.end() || (std::next(oe) == o.end() && oe->empty());
}
} // namespace

WebDir find_web_dir(const std::string& configured, const std::filesystem::path& exe) {
    if (!configured.empty())
        return {configured, "--web-dir"};
    if (!exe.empty()) {
        auto installed = exe.parent_path().parent_path() / "share" / "f0mesh" / "web";
        if (has_index(installed))
            return {installed.lexically_normal().string(), "install prefix"};
#if defined(F0_BUILD_DIR) && defined(F0_SOURCE_WEB_DIR)
        if (within(exe, F0_BUILD_DIR) && has_index(F0_SOURCE_WEB_DIR))
            return {F0_SOURCE_WEB_DIR, "build tree"};
#endif
    }
    return {"", "no dashboard next to the binary (PREFIX/share/f0mesh/web); set --web-dir"};
}

WebDir find_web_dir(const std::string& configured) {
    std::error_code ec;
    auto exe = std::filesystem::canonical("/proc/self/exe", ec);
    return find_web_dir(configured, ec ? std::filesystem::path() : exe);
}

} // namespace f0::cli
