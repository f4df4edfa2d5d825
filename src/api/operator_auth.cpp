#include "api/operator_auth.hpp"

#include "api/routes.hpp"

#include "util/base64.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <sstream>

namespace f0::api {

namespace {
bool same(const std::string& a, const std::string& b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace

bool OperatorAuth::allows(const Request& req) const {
    if (token_.empty())
        return false;
    const std::string bearer = "Bearer ";
    if (req.authorization.rfind(bearer, 0) == 0 &&
        same(req.authorization.substr(bearer.size()), token_))
        return true;
    std::string error;
    auto q = query_param(req.query, "token", error);
    return q && !q->empty() && same(*q, token_);
}

Result<std::string> OperatorAuth::load_or_create(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        std::array<std::uint8_t, 32> raw{};
        if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
            return make_error("cannot make an operator token: no randomness");
        auto token = base64_encode(raw);
        for (auto& c : token) // base64url, no padding: safe in a URL and a header
            c = c == '+' ? '-' : c == '/' ? '_' : c;
        while (!token.empty() && token.back() == '=')
            token.pop_back();
        int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0)
            return make_error("cannot create the operator token file " + file.string());
        auto line = token + "\n";
        bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
        ok = ::fsync(fd) == 0 && ok;
        ::close(fd);
        if (!ok)
            return make_error("cannot write the operator token file " + file.string());
    }
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    auto token = ss.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
        token.pop_back();
    if (!in || token.size() < 16)
        return make_error("the operator token file " + file.string() +
                          " is unreadable or holds fewer than 16 characters");
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
        return make_error("the operator token file " + file.string() +
                          " may be read by others (chmod 600 it)");
    return token;
}

} // namespace f0::api
