// The dashboard: GET /ops/mesh (index.html) and the built assets under /ops/mesh/.
#include "api/routes.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace f0::api {

namespace {
std::string content_type(const std::filesystem::path& p) {
    auto ext = p.extension().string();
    if (ext == ".html")
        return "text/html; charset=utf-8";
    if (ext == ".js")
        return "text/javascript; charset=utf-8";
    if (ext == ".css")
        return "text/css; charset=utf-8";
    if (ext == ".json")
        return "application/json";
    if (ext == ".svg")
        return "image/svg+xml";
    if (ext == ".png")
        return "image/png";
    if (ext == ".ico")
        return "image/x-icon";
    return "application/octet-stream";
}

Response serve(const std::string& web_dir, std::string rest) {
    if (web_dir.empty() || !std::filesystem::exists(std::filesystem::path(web_dir) / "index.html"))
        return error_response(503, "dashboard_not_built",
                              "the dashboard is not built here (run 'make web', or set --web-dir)");
    while (!rest.empty() && rest.front() == '/')
        rest.erase(0, 1);
    if (rest.empty())
        rest = "index.html";
    // Only plain relative paths inside web_dir: no "..", no absolute paths, no backslashes.
    std::filesystem::path rel(rest);
    for (const auto& part : rel)
        if (part == ".." || part == "." || part.string().find('\\') != std::string::npos)
            return error_response(400, "bad_path", "the path may not contain '.' or '..' segments");
    auto full = std::filesystem::path(web_dir) / rel;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(full, ec))
        return error_response(404, "not_found", "no file " + rest + " in the dashboard");
    std::ifstream in(full, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return {200, content_type(full), ss.str()};
}
} // namespace

void add_web_routes(Router& r, const ApiContext& ctx) {
    auto dir = ctx.web_dir;
    r.add(
        "GET", "/ops/mesh", [dir](Request&, Respond respond) { respond(serve(dir, "")); },
        Router::Access::Peer);
    r.add_prefix(
        "GET", "/ops/mesh/",
        [dir](Request& req, Respond respond) { respond(serve(dir, req.params["*"])); },
        Router::Access::Peer);
}

} // namespace f0::api
