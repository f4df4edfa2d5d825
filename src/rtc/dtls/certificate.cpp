// Certificate generation and the shared DTLS 1.2 SSL_CTX (AES-GCM / ChaCha20 suites, X25519/P-256).
#include "rtc/dtls/certificate.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <mutex>
#include <stdexcept>

namespace f0::rtc::dtls {

namespace {
constexpr const char* kCiphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
                                 "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"
                                 "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA:"
                                 "ECDHE-RSA-AES128-SHA";

std::string openssl_error(const char* what) {
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return std::string(what) + ": " + buf;
}

// Peers present self-signed certificates; the SDP fingerprint, checked after the handshake, is
// what authenticates them.
int accept_any(int, X509_STORE_CTX*) {
    return 1;
}

const EVP_MD* digest_by_name(const std::string& algorithm) {
    if (algorithm == "sha-256")
        return EVP_sha256();
    if (algorithm == "sha-384")
        return EVP_sha384();
    if (algorithm == "sha-512")
        return EVP_sha512();
    if (algorithm == "sha-1")
        return EVP_sha1();
    return nullptr;
}
} // namespace

Certificate::~Certificate() {
    if (ctx_)
        SSL_CTX_free(ctx_);
}

Result<std::string> Certificate::fingerprint_of(x509_st* cert, const std::string& algorithm) {
    const EVP_MD* md = digest_by_name(algorithm);
    if (!md)
        return make_error("unsupported fingerprint algorithm '" + algorithm + "'");
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!X509_digest(cert, md, buf, &len))
        return make_error(openssl_error("X509_digest"));
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(len * 3);
    for (unsigned i = 0; i < len; ++i) {
        if (i)
            out.push_back(':');
        out.push_back(hex[buf[i] >> 4]);
        out.push_back(hex[buf[i] & 15]);
    }
    return out;
}

Result<std::shared_ptr<Certificate>> Certificate::generate(const std::string& common_name) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    if (!key)
        return make_error(openssl_error("EVP_EC_gen"));
    X509* x = X509_new();
    std::shared_ptr<Certificate> cert(new Certificate());
    auto cleanup = [&] {
        EVP_PKEY_free(key);
        X509_free(x);
    };
    unsigned char serial[8];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    if (!X509_sign(x, key, EVP_sha256())) {
        cleanup();
        return make_error(openssl_error("X509_sign"));
    }
    auto fp = fingerprint_of(x, "sha-256");
    if (!fp) {
        cleanup();
        return fp.error();
    }
    cert->fingerprint_ = {"sha-256", fp.value()};

    SSL_CTX* ctx = SSL_CTX_new(DTLS_method());
    if (!ctx) {
        cleanup();
        return make_error(openssl_error("SSL_CTX_new"));
    }
    cert->ctx_ = ctx;
    SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS); // idle links hold no record buffers
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
    // The use_srtp extension (RFC 5764), offered and answered though no SRTP keys are ever used:
    // browsers always offer it, and some stacks (werift; pion/dtls once) refuse a handshake
    // without it even for data-only sessions. (OpenSSL returns 0 on success here.)
    if (SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0) {
        cleanup();
        return make_error(openssl_error("SSL_CTX_set_tlsext_use_srtp"));
    }
    if (!SSL_CTX_set_cipher_list(ctx, kCiphers) || !SSL_CTX_set1_groups_list(ctx, "X25519:P-256") ||
        !SSL_CTX_use_certificate(ctx, x) || !SSL_CTX_use_PrivateKey(ctx, key) ||
        !SSL_CTX_check_private_key(ctx)) {
        cleanup();
        return make_error(openssl_error("configuring the DTLS context"));
    }
    cleanup(); // the SSL_CTX holds its own references
    return cert;
}

std::shared_ptr<Certificate> Certificate::shared_default() {
    static std::mutex mu;
    static std::shared_ptr<Certificate> cert;
    std::lock_guard lock(mu);
    if (!cert) {
        auto made = generate();
        if (!made)
            throw std::runtime_error("cannot create the DTLS certificate: " + made.error().message);
        cert = made.value();
    }
    return cert;
}

} // namespace f0::rtc::dtls
