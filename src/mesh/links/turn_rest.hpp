// TURN REST credentials (the shared-secret scheme of draft-uberti-behave-turn-rest, coturn's
// --use-auth-secret): username "EXPIRY:USER" (EXPIRY in Unix seconds), password
// base64(HMAC-SHA1(secret, username)). The TURN server checks the HMAC and the expiry, so no
// per-user password is stored anywhere and a leaked one stops working by itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace f0::mesh {

struct TurnCredentials {
    std::string username, password;
};

TurnCredentials turn_rest_credentials(std::string_view secret, std::string_view user,
                                      std::int64_t expiry_unix_s);

} // namespace f0::mesh
