// A DTLS identity: ECDSA P-256 key, self-signed X.509 certificate, its SDP fingerprint, and the
// SSL_CTX built on it (shared by every connection that uses this certificate, to save memory).
#pragma once

#include "rtc/sdp/description.hpp"
#include "util/result.hpp"

#include <memory>
#include <string>

struct ssl_ctx_st;
struct x509_st;

namespace f0::rtc::dtls {

class Certificate {
public:
    ~Certificate();
    Certificate(const Certificate&) = delete;
    Certificate& operator=(const Certificate&) = delete;

    static Result<std::shared_ptr<Certificate>> generate(const std::string& common_name = "f0mesh");
    // One certificate per process, generated on first use (Chromium makes one per connection;
    // sharing it makes setup faster and each connection lighter).
    static std::shared_ptr<Certificate> shared_default();

    const sdp::Fingerprint& fingerprint() const { return fingerprint_; }
    ssl_ctx_st* ssl_context() const { return ctx_; }

    // Fingerprint of any certificate with the named algorithm (sha-1, sha-256, sha-384, sha-512).
    static Result<std::string> fingerprint_of(x509_st* cert, const std::string& algorithm);

private:
    Certificate() = default;
    ssl_ctx_st* ctx_ = nullptr;
    sdp::Fingerprint fingerprint_;
};

} // namespace f0::rtc::dtls
