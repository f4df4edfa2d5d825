// Ed25519 with OpenSSL 3 (EVP_PKEY_ED25519, one-shot EVP_DigestSign/Verify).
#include "mesh/identity/identity.hpp"

#include "util/base64.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace f0::mesh::identity {

namespace {
Result<PublicKey> raw_public(EVP_PKEY* key) {
    PublicKey pk{};
    size_t len = pk.size();
    if (EVP_PKEY_get_raw_public_key(key, pk.data(), &len) != 1 || len != pk.size())
        return make_error("cannot read the Ed25519 public key");
    return pk;
}
} // namespace

Identity::~Identity() {
    if (key_)
        EVP_PKEY_free(key_);
}

Identity::Identity(Identity&& o) noexcept : key_(o.key_), public_key_(o.public_key_) {
    o.key_ = nullptr;
}

Identity& Identity::operator=(Identity&& o) noexcept {
    std::swap(key_, o.key_);
    std::swap(public_key_, o.public_key_);
    return *this;
}

Result<Identity> Identity::generate() {
    Identity id;
    id.key_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    if (!id.key_)
        return make_error("Ed25519 key generation failed");
    auto pk = raw_public(id.key_);
    if (!pk)
        return pk.error();
    id.public_key_ = pk.value();
    return id;
}

Result<Identity> Identity::from_seed(std::span<const std::uint8_t, 32> seed) {
    Identity id;
    id.key_ = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size());
    if (!id.key_)
        return make_error("Ed25519 key from seed failed");
    auto pk = raw_public(id.key_);
    if (!pk)
        return pk.error();
    id.public_key_ = pk.value();
    return id;
}

Result<Identity> Identity::load_or_create(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
        FILE* f = std::fopen(path.c_str(), "r");
        if (!f)
            return make_error("cannot open the identity key " + path.string());
        Identity id;
        id.key_ = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
        std::fclose(f);
        if (!id.key_ || EVP_PKEY_get_id(id.key_) != EVP_PKEY_ED25519)
            return make_error("the identity key " + path.string() + " is not an Ed25519 PEM key");
        auto pk = raw_public(id.key_);
        if (!pk)
            return pk.error();
        id.public_key_ = pk.value();
        return id;
    }
    std::filesystem::create_directories(path.parent_path(), ec);
    auto made = generate();
    if (!made)
        return made;
    // Write to a temporary file with mode 0600, then rename: a crash never leaves half a key.
    auto tmp = path.string() + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return make_error("cannot create " + tmp);
    FILE* f = ::fdopen(fd, "w");
    bool ok =
        f && PEM_write_PrivateKey(f, made.value().key_, nullptr, nullptr, 0, nullptr, nullptr);
    ok = f && std::fflush(f) == 0 && ::fsync(fd) == 0 && ok;
    if (f)
        std::fclose(f);
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0)
        return make_error("cannot write the identity key " + path.string());
    return made;
}

std::string Identity::public_key_base64() const {
    return base64_encode(public_key_);
}

Signature Identity::sign(std::span<const std::uint8_t> message) const {
    Signature sig{};
    size_t len = sig.size();
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_);
    EVP_DigestSign(ctx, sig.data(), &len, message.data(), message.size());
    EVP_MD_CTX_free(ctx);
    return sig;
}

bool verify(const PublicKey& key, std::span<const std::uint8_t> message, const Signature& sig) {
    EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size());
    if (!pkey)
        return false;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pkey) == 1 &&
              EVP_DigestVerify(ctx, sig.data(), sig.size(), message.data(), message.size()) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return ok;
}

Result<PublicKey> parse_public_key(std::string_view b64) {
    auto raw = base64_decode(b64);
    if (!raw)
        return make_error("pubKey is not base64: " + raw.error().message);
    if (raw.value().size() != 32)
        return make_error("pubKey must be 32 bytes (raw Ed25519), got " +
                          std::to_string(raw.value().size()));
    PublicKey pk;
    std::copy(raw.value().begin(), raw.value().end(), pk.begin());
    return pk;
}

} // namespace f0::mesh::identity
