// The SSL object is guarded by mu_: records are decrypted on the loop thread and encrypted on
// whichever thread sends. Decrypted data is delivered upward with mu_ released, because the layer
// above (SCTP) may answer synchronously by sending through us.
#include "rtc/dtls/dtls_transport.hpp"

#include "util/log.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace f0::rtc::dtls {

namespace {
const auto& logger() {
    static const auto& l = log::forever("rtc.dtls");
    return l;
}

// Write BIO: every write is one datagram handed to the lower transport.
int bio_write(BIO* bio, const char* data, int len) {
    auto* self = static_cast<DtlsTransport*>(BIO_get_data(bio));
    if (!self || len < 0)
        return -1;
    self->send_datagram({reinterpret_cast<const std::uint8_t*>(data), static_cast<size_t>(len)});
    return len; // a dropped datagram is a lost datagram; DTLS and SCTP recover
}

long bio_ctrl(BIO*, int cmd, long, void*) {
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
    default:
        return 0;
    }
}

int bio_create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

BIO_METHOD* write_method() {
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "f0 dtls writer");
        BIO_meth_set_write(m, bio_write);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
        return m;
    }();
    return method;
}

unsigned int retransmit_timer(SSL* ssl, unsigned int previous_us) {
    auto* self = static_cast<DtlsConfig*>(SSL_get_app_data(ssl));
    unsigned initial =
        self ? static_cast<unsigned>(self->initial_retransmit.count() * 1000) : 1000000;
    if (previous_us == 0)
        return initial;
    return std::min(previous_us * 2, 8'000'000u);
}

std::string ssl_error_string() {
    unsigned long e = ERR_get_error();
    char buf[256] = "no detail";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}
} // namespace

std::shared_ptr<DtlsTransport> DtlsTransport::create(std::shared_ptr<Transport> lower,
                                                     std::shared_ptr<EventLoop> loop,
                                                     DtlsConfig config) {
    std::shared_ptr<DtlsTransport> t(
        new DtlsTransport(std::move(lower), std::move(loop), std::move(config)));
    std::weak_ptr<DtlsTransport> weak = t;
    t->lower_->on_receive([weak](std::span<const std::uint8_t> data) {
        if (auto self = weak.lock())
            self->on_lower_receive(data);
    });
    t->lower_->on_state_change([weak](TransportState s) {
        if (auto self = weak.lock())
            self->on_lower_state(s);
    });
    return t;
}

DtlsTransport::DtlsTransport(std::shared_ptr<Transport> lower, std::shared_ptr<EventLoop> loop,
                             DtlsConfig config)
    : lower_(std::move(lower)), loop_(std::move(loop)), config_(std::move(config)) {
    if (!config_.certificate)
        config_.certificate = Certificate::shared_default();
    ssl_ = SSL_new(config_.certificate->ssl_context());
    SSL_set_app_data(ssl_, &config_);
    rbio_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio_, -1);
    BIO* wbio = BIO_new(write_method());
    BIO_set_data(wbio, this);
    SSL_set_bio(ssl_, rbio_, wbio);
    SSL_set_mtu(ssl_, static_cast<long>(config_.mtu));
    DTLS_set_timer_cb(ssl_, retransmit_timer);
    if (config_.is_client)
        SSL_set_connect_state(ssl_);
    else
        SSL_set_accept_state(ssl_);
}

DtlsTransport::~DtlsTransport() {
    loop_->cancel(timer_);
    std::lock_guard lock(mu_);
    BIO_set_data(SSL_get_wbio(ssl_), nullptr);
    SSL_free(ssl_);
}

void DtlsTransport::start() {
    change_state(TransportState::Connecting);
    if (lower_->state() == TransportState::Connected)
        on_lower_state(TransportState::Connected);
}

void DtlsTransport::stop() {
    {
        std::lock_guard lock(mu_);
        if (stopped_)
            return;
        stopped_ = true;
        if (connected_)
            SSL_shutdown(ssl_); // close_notify, best effort
        loop_->cancel(timer_);
        timer_ = 0;
    }
    change_state(TransportState::Closed);
}

bool DtlsTransport::send_datagram(std::span<const std::uint8_t> datagram) {
    bytes_sent_.fetch_add(datagram.size(), std::memory_order_relaxed);
    return lower_->send(datagram);
}

bool DtlsTransport::send(std::span<const std::uint8_t> data) {
    std::lock_guard lock(mu_);
    if (!connected_ || stopped_)
        return false;
    int n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
    if (n <= 0) {
        ERR_clear_error();
        return false;
    }
    return true;
}

void DtlsTransport::on_lower_state(TransportState state) {
    if (state == TransportState::Connected) {
        TransportState report;
        {
            std::lock_guard lock(mu_);
            if (handshake_started_ || stopped_)
                return;
            handshake_started_ = true;
            report = continue_handshake_locked();
        }
        if (report == TransportState::Failed)
            fail(failure_);
        else
            change_state(report);
        auto held = std::move(held_);
        for (const auto& d : held)
            on_lower_receive(d);
    } else if (state == TransportState::Failed || state == TransportState::Closed) {
        fail("the transport below DTLS is " + std::string(to_string(state)));
    }
}

// Runs SSL_do_handshake; on completion checks the peer's fingerprint.
TransportState DtlsTransport::continue_handshake_locked() {
    if (connected_)
        return TransportState::Connected;
    int r = SSL_do_handshake(ssl_);
    if (r == 1) {
        X509* peer = SSL_get1_peer_certificate(ssl_);
        if (!peer) {
            failure_ = "peer presented no certificate";
            return TransportState::Failed;
        }
        bool match = false;
        for (const auto& expected : config_.remote_fingerprints) {
            auto fp = Certificate::fingerprint_of(peer, expected.algorithm);
            if (fp && fp.value() == expected.value) {
                match = true;
                break;
            }
        }
        X509_free(peer);
        if (!match) {
            failure_ = "peer certificate does not match the fingerprint in its SDP";
            return TransportState::Failed;
        }
        connected_ = true;
        loop_->cancel(timer_);
        timer_ = 0;
        F0_LOG_DEBUG(logger(), "handshake done ({}), cipher {}",
                     config_.is_client ? "client" : "server", SSL_get_cipher_name(ssl_));
        return TransportState::Connected;
    }
    int err = SSL_get_error(ssl_, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        arm_timer_locked();
        return TransportState::Connecting;
    }
    failure_ = "handshake failed: " + ssl_error_string();
    return TransportState::Failed;
}

void DtlsTransport::arm_timer_locked() {
    timeval tv{};
    if (!DTLSv1_get_timeout(ssl_, &tv))
        return;
    auto ms = std::chrono::milliseconds(tv.tv_sec * 1000 + tv.tv_usec / 1000 + 1);
    loop_->cancel(timer_);
    std::weak_ptr<DtlsTransport> weak = weak_from_this();
    timer_ = loop_->call_later(ms, [weak] {
        if (auto self = weak.lock())
            self->on_timer();
    });
}

void DtlsTransport::on_timer() {
    bool failed = false;
    {
        std::lock_guard lock(mu_);
        timer_ = 0;
        if (connected_ || stopped_)
            return;
        if (DTLSv1_handle_timeout(ssl_) < 0) {
            failure_ = "handshake timed out";
            failed = true;
        } else
            arm_timer_locked();
    }
    if (failed)
        fail(failure_);
}

void DtlsTransport::on_lower_receive(std::span<const std::uint8_t> data) {
    // RFC 7983: DTLS records start with a content type byte in 20..63.
    if (data.empty() || data[0] < 20 || data[0] > 63)
        return;
    bytes_received_.fetch_add(data.size(), std::memory_order_relaxed);
    if (lower_->state() != TransportState::Connected) {
        if (held_.size() < 16)
            held_.emplace_back(data.begin(), data.end());
        return;
    }
    TransportState report = TransportState::Connecting;
    bool was_connected;
    {
        std::lock_guard lock(mu_);
        if (stopped_)
            return;
        BIO_write(rbio_, data.data(), static_cast<int>(data.size()));
        was_connected = connected_;
        if (!connected_) {
            handshake_started_ = true;
            report = continue_handshake_locked();
        }
    }
    if (!was_connected) {
        if (report == TransportState::Failed) {
            fail(failure_);
            return;
        }
        if (report == TransportState::Connected)
            change_state(TransportState::Connected);
        else
            return;
    }
    // Application records: decrypt one at a time, deliver each with the lock released. One buffer
    // per thread, not per connection: 64 KiB times a thousand links is memory we need not hold.
    thread_local std::vector<std::uint8_t> recv_buf(1 << 16);
    for (int i = 0; i < 64; ++i) {
        int n;
        bool closed = false;
        {
            std::lock_guard lock(mu_);
            if (stopped_)
                return;
            n = SSL_read(ssl_, recv_buf.data(), static_cast<int>(recv_buf.size()));
            if (n <= 0) {
                int err = SSL_get_error(ssl_, n);
                if (err == SSL_ERROR_ZERO_RETURN)
                    closed = true;
                else if (err != SSL_ERROR_WANT_READ)
                    F0_LOG_DEBUG(logger(), "dropped a bad record: {}", ssl_error_string());
                ERR_clear_error();
            }
        }
        if (closed) {
            F0_LOG_DEBUG(logger(), "peer sent close_notify");
            {
                std::lock_guard lock(mu_);
                stopped_ = true;
            }
            change_state(TransportState::Closed);
            return;
        }
        if (n <= 0)
            return;
        deliver({recv_buf.data(), static_cast<size_t>(n)});
    }
}

void DtlsTransport::fail(const std::string& why) {
    {
        std::lock_guard lock(mu_);
        if (failure_.empty())
            failure_ = why;
        stopped_ = true;
        loop_->cancel(timer_);
        timer_ = 0;
    }
    F0_LOG_DEBUG(logger(), "DTLS ended: {}", why);
    change_state(TransportState::Failed);
}

std::string DtlsTransport::srtp_profile() const {
    std::lock_guard lock(mu_);
    if (!ssl_ || !connected_)
        return {};
    const SRTP_PROTECTION_PROFILE* p = SSL_get_selected_srtp_profile(ssl_);
    return p && p->name ? std::string(p->name) : std::string();
}

} // namespace f0::rtc::dtls
