// A worker's identity: an Ed25519 key pair, created on first start and kept in the data dir
// (PEM, mode 0600). Its raw 32-byte public key, in base64, is what peers register and pin.
#pragma once

#include "util/result.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

struct evp_pkey_st;

namespace f0::mesh::identity {

using PublicKey = std::array<std::uint8_t, 32>;
using Signature = std::array<std::uint8_t, 64>;

class Identity {
public:
    ~Identity();
    Identity(Identity&&) noexcept;
    Identity& operator=(Identity&&) noexcept;

    static Result<Identity> generate();
    // The key whose private half is these 32 bytes (RFC 8032): repeatable identities for
    // simulations replayed from a seed. A worker's own key comes from generate().
    static Result<Identity> from_seed(std::span<const std::uint8_t, 32> seed);
    // Loads the key at path, or creates it (and its directory) when absent.
    static Result<Identity> load_or_create(const std::filesystem::path& path);

    const PublicKey& public_key() const { return public_key_; }
    std::string public_key_base64() const;
    Signature sign(std::span<const std::uint8_t> message) const;

private:
    Identity() = default;
    evp_pkey_st* key_ = nullptr;
    PublicKey public_key_{};
};

bool verify(const PublicKey& key, std::span<const std::uint8_t> message, const Signature& sig);
Result<PublicKey> parse_public_key(std::string_view base64);

} // namespace f0::mesh::identity
