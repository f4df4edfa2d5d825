#include "mesh/links/turn_rest.hpp"

#include "util/base64.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace f0::mesh {

TurnCredentials turn_rest_credentials(std::string_view secret, std::string_view user,
                                      std::int64_t expiry_unix_s) {
    TurnCredentials c;
    c.username = std::to_string(expiry_unix_s) + ":" + std::string(user);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(c.username.data()), c.username.size(), mac, &len);
    c.password = base64_encode({mac, len});
    return c;
}

} // namespace f0::mesh
