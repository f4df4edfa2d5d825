// The operator credential. The operator routes (dial, links, control, publish, lists, /events,
// /metrics, ...) need a bearer token that only the operator can read: a file of mode 0600,
// DATA_DIR/operator.token by default, created with 32 random bytes on the first start. It is sent
// as "Authorization: Bearer TOKEN", or as ?token=TOKEN where a header cannot be set (the
// dashboard's EventSource). Compared in constant time.
#pragma once

#include "api/http_types.hpp"
#include "util/result.hpp"

#include <filesystem>
#include <string>

namespace f0::api {

class OperatorAuth {
public:
    explicit OperatorAuth(std::string token) : token_(std::move(token)) {}
    bool allows(const Request& req) const;
    // The token in `file`; when the file does not exist it is created (0600) with a new token.
    static Result<std::string> load_or_create(const std::filesystem::path& file);

private:
    std::string token_;
};

} // namespace f0::api
