// SCTP association: socket options for WebRTC, message send with partial reliability, an outgoing
// queue behind the usrsctp send buffer (that is what bufferedAmount counts), stream resets.
#include "rtc/sctp/sctp_association.hpp"

#include "util/log.hpp"

#include <usrsctp.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace f0::rtc::sctp {

namespace {
const auto& logger() {
    static const auto& l = log::forever("rtc.sctp");
    return l;
}

template <class T> bool set_opt(struct socket* s, int level, int name, const T& value) {
    return usrsctp_setsockopt(s, level, name, &value, sizeof value) == 0;
}

// usrsctp may hold a requested reset back for good (see nudge_resets()); asked again this often.
constexpr std::chrono::milliseconds kResetNudgeInterval{200};
constexpr int kResetNudgesMax = 50; // 10 s without any reset finishing: stop asking
// The longest a reset waits for the association to go dry (see request_resets()). With data
// still flowing after it, the peer finishes a deferred reset at the next DATA chunk anyway.
constexpr std::chrono::milliseconds kResetHoldMax{1000};

// SCTP_RESET_STREAMS for our outgoing streams: 0 when usrsctp accepted it, else the errno.
int ask_reset(struct socket* sock, const std::vector<std::uint16_t>& streams) {
    std::vector<std::uint8_t> buf(sizeof(struct sctp_reset_streams) +
                                  streams.size() * sizeof(std::uint16_t));
    auto* srs = reinterpret_cast<struct sctp_reset_streams*>(buf.data());
    srs->srs_assoc_id = SCTP_ALL_ASSOC;
    srs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
    srs->srs_number_streams = static_cast<std::uint16_t>(streams.size());
    std::memcpy(srs->srs_stream_list, streams.data(), streams.size() * sizeof(std::uint16_t));
    return usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, srs,
                              static_cast<socklen_t>(buf.size())) == 0
               ? 0
               : errno;
}

std::atomic<std::uint64_t> g_queue_full{0};
std::atomic<std::uint64_t> g_oversize{0};
} // namespace

std::uint64_t SctpAssociation::sends_refused_queue_full() {
    return g_queue_full.load(std::memory_order_relaxed);
}

std::uint64_t SctpAssociation::messages_refused_oversize() {
    return g_oversize.load(std::memory_order_relaxed);
}

std::shared_ptr<SctpAssociation> SctpAssociation::create(std::shared_ptr<Transport> lower,
                                                         std::shared_ptr<EventLoop> loop,
                                                         SctpConfig config) {
    std::shared_ptr<SctpAssociation> a(
        new SctpAssociation(std::move(lower), std::move(loop), std::move(config)));
    a->runtime_ = UsrsctpRuntime::acquire(a->loop_);
    a->id_ = a->runtime_->add(a);
    std::weak_ptr<SctpAssociation> weak = a;
    a->lower_->on_receive([weak, id = a->id_](std::span<const std::uint8_t> packet) {
        if (weak.expired())
            return;
        usrsctp_conninput(reinterpret_cast<void*>(id), packet.data(), packet.size(), 0);
    });
    a->lower_->on_state_change([weak](TransportState s) {
        auto self = weak.lock();
        if (!self)
            return;
        if (s == TransportState::Connected)
            self->connect();
        else if (s == TransportState::Failed || s == TransportState::Closed)
            self->set_state(s);
    });
    return a;
}

SctpAssociation::SctpAssociation(std::shared_ptr<Transport> lower, std::shared_ptr<EventLoop> loop,
                                 SctpConfig config)
    : lower_(std::move(lower)), loop_(std::move(loop)), config_(std::move(config)) {}

SctpAssociation::~SctpAssociation() {
    runtime_->remove(id_);
    if (sock_) {
        // Closing from inside a usrsctp callback is not allowed; do it on the loop, later.
        auto* s = sock_;
        auto id = id_;
        loop_->post([s, id] {
            usrsctp_close(s);
            usrsctp_deregister_address(reinterpret_cast<void*>(id));
        });
    }
}

void SctpAssociation::start() {
    usrsctp_register_address(reinterpret_cast<void*>(id_));
    sock_ = UsrsctpRuntime::open_socket(id_, static_cast<std::uint32_t>(config_.send_buffer / 2));
    if (!sock_) {
        F0_LOG_ERROR(logger(), "usrsctp_socket failed: {}", std::strerror(errno));
        set_state(TransportState::Failed);
        return;
    }
    usrsctp_set_non_blocking(sock_, 1);
    struct linger lg {
        1, 0
    }; // close aborts: no lingering association state per closed link
    set_opt(sock_, SOL_SOCKET, SO_LINGER, lg);
    int sndbuf = static_cast<int>(config_.send_buffer),
        rcvbuf = static_cast<int>(config_.receive_buffer);
    set_opt(sock_, SOL_SOCKET, SO_SNDBUF, sndbuf);
    set_opt(sock_, SOL_SOCKET, SO_RCVBUF, rcvbuf);
    struct sctp_assoc_value reset {
        SCTP_ALL_ASSOC, SCTP_ENABLE_RESET_STREAM_REQ
    };
    set_opt(sock_, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, reset);
    int on = 1;
    set_opt(sock_, IPPROTO_SCTP, SCTP_RECVRCVINFO, on);
    set_opt(sock_, IPPROTO_SCTP, SCTP_NODELAY, on);
    std::uint32_t pd_point = static_cast<std::uint32_t>(config_.receive_buffer / 2);
    set_opt(sock_, IPPROTO_SCTP, SCTP_PARTIAL_DELIVERY_POINT, pd_point);
    for (std::uint16_t ev : {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_STREAM_CHANGE_EVENT,
                             SCTP_PARTIAL_DELIVERY_EVENT, SCTP_SENDER_DRY_EVENT}) {
        struct sctp_event e {};
        e.se_assoc_id = SCTP_ALL_ASSOC;
        e.se_type = ev;
        e.se_on = 1;
        set_opt(sock_, IPPROTO_SCTP, SCTP_EVENT, e);
    }
    struct sctp_initmsg init {};
    init.sinit_num_ostreams = config_.streams;
    init.sinit_max_instreams = config_.streams;
    set_opt(sock_, IPPROTO_SCTP, SCTP_INITMSG, init);
    struct sctp_paddrparams pp {};
    pp.spp_assoc_id = SCTP_FUTURE_ASSOC;
    pp.spp_flags = SPP_PMTUD_DISABLE;
    pp.spp_pathmtu = static_cast<std::uint32_t>(config_.mtu);
    set_opt(sock_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, pp);

    struct sockaddr_conn local {};
    local.sconn_family = AF_CONN;
    local.sconn_port = htons(config_.local_port);
    local.sconn_addr = reinterpret_cast<void*>(id_);
    if (usrsctp_bind(sock_, reinterpret_cast<struct sockaddr*>(&local), sizeof local) != 0) {
        F0_LOG_ERROR(logger(), "usrsctp_bind failed: {}", std::strerror(errno));
        set_state(TransportState::Failed);
        return;
    }
    set_state(TransportState::Connecting);
    if (lower_->state() == TransportState::Connected)
        connect();
}

void SctpAssociation::connect() {
    if (!sock_ || state_ != TransportState::Connecting)
        return;
    // WebRTC: both sides connect (simultaneous open), RFC 8841.
    struct sockaddr_conn remote {};
    remote.sconn_family = AF_CONN;
    remote.sconn_port = htons(config_.remote_port);
    remote.sconn_addr = reinterpret_cast<void*>(id_);
    if (usrsctp_connect(sock_, reinterpret_cast<struct sockaddr*>(&remote), sizeof remote) != 0 &&
        errno != EINPROGRESS) {
        F0_LOG_ERROR(logger(), "usrsctp_connect failed: {}", std::strerror(errno));
        set_state(TransportState::Failed);
    }
}

void SctpAssociation::stop() {
    if (sock_ && state_ == TransportState::Connected)
        usrsctp_shutdown(sock_, SHUT_RDWR);
    set_state(TransportState::Closed);
}

void SctpAssociation::abort() {
    if (sock_) {
        struct linger lg {
            1, 0
        };
        set_opt(sock_, SOL_SOCKET, SO_LINGER, lg);
        usrsctp_close(sock_); // with SO_LINGER 0: an ABORT
        usrsctp_deregister_address(reinterpret_cast<void*>(id_));
        sock_ = nullptr;
    }
    set_state(TransportState::Closed);
}

void SctpAssociation::set_state(TransportState s) {
    auto old = state_.exchange(s);
    if (old == s)
        return;
    if (old == TransportState::Closed || old == TransportState::Failed) {
        state_ = old; // terminal
        return;
    }
    F0_LOG_DEBUG(logger(), "association {}: {}", id_, to_string(s));
    if (on_state_)
        on_state_(s);
}

void SctpAssociation::handle_outgoing(const void* packet, std::size_t len) {
    lower_->send({static_cast<const std::uint8_t*>(packet), len});
}

bool SctpAssociation::send_now(std::uint16_t stream, Ppid ppid, std::span<const std::uint8_t> data,
                               const Reliability& r, int& err) {
    struct sctp_sendv_spa spa {};
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    spa.sendv_sndinfo.snd_sid = stream;
    spa.sendv_sndinfo.snd_ppid = htonl(static_cast<std::uint32_t>(ppid));
    spa.sendv_sndinfo.snd_flags = SCTP_EOR | (r.ordered ? 0 : SCTP_UNORDERED);
    if (r.max_retransmits) {
        spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
        spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
        spa.sendv_prinfo.pr_value = *r.max_retransmits;
    } else if (r.max_lifetime_ms) {
        spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
        spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_TTL;
        spa.sendv_prinfo.pr_value = *r.max_lifetime_ms;
    }
    static const std::uint8_t zero = 0;
    const void* buf = data.empty() ? &zero : data.data();
    std::size_t len = data.empty() ? 1 : data.size();
    auto n = usrsctp_sendv(sock_, buf, len, nullptr, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0);
    if (n >= 0)
        return true;
    err = errno;
    return false;
}

Result<SendResult> SctpAssociation::send(std::uint16_t stream, Ppid ppid,
                                         std::span<const std::uint8_t> data,
                                         const Reliability& reliability) {
    if (state_ != TransportState::Connected)
        return make_error("the SCTP association is not connected");
    if (data.size() > config_.remote_max_message_size)
        return make_error("message of " + std::to_string(data.size()) +
                          " bytes exceeds the peer's max-message-size of " +
                          std::to_string(config_.remote_max_message_size));
    if (data.empty())
        ppid = ppid == Ppid::String   ? Ppid::StringEmpty
               : ppid == Ppid::Binary ? Ppid::BinaryEmpty
                                      : ppid;
    std::lock_guard lock(send_mu_);
    if (queue_.empty()) {
        int err = 0;
        if (send_now(stream, ppid, data, reliability, err))
            return SendResult::Sent;
        if (err != EWOULDBLOCK && err != EAGAIN && err != ENOBUFS)
            return make_error(std::string("usrsctp_sendv: ") + std::strerror(err));
    }
    if (queued_bytes_ + data.size() > config_.max_queued_bytes) {
        g_queue_full.fetch_add(1, std::memory_order_relaxed);
        return make_error("the send queue is full (" + std::to_string(queued_bytes_) +
                          " bytes waiting); try again when it drains");
    }
    queue_.push_back({stream, ppid, {data.begin(), data.end()}, reliability});
    queued_bytes_ += data.size();
    buffered_[stream] += data.size();
    return SendResult::Queued;
}

std::size_t SctpAssociation::buffered_amount(std::uint16_t stream) const {
    std::lock_guard lock(send_mu_);
    auto it = buffered_.find(stream);
    return it == buffered_.end() ? 0 : it->second;
}

void SctpAssociation::handle_writable() {
    // Called from inside usrsctp: flush later, on the loop, never re-entering usrsctp here.
    if (!flush_posted_.exchange(true)) {
        std::weak_ptr<SctpAssociation> weak = weak_from_this();
        loop_->post([weak] {
            if (auto self = weak.lock()) {
                self->flush_posted_ = false;
                self->flush_queue();
            }
        });
    }
}

void SctpAssociation::flush_queue() {
    struct Change {
        std::uint16_t stream;
        std::size_t before, after;
    };
    std::vector<Change> changed;
    {
        std::lock_guard lock(send_mu_);
        while (!queue_.empty() && state_ == TransportState::Connected) {
            auto& p = queue_.front();
            int err = 0;
            if (!send_now(p.stream, p.ppid, p.data, p.reliability, err)) {
                if (err == EWOULDBLOCK || err == EAGAIN || err == ENOBUFS)
                    break;
                F0_LOG_WARN(logger(), "dropping a queued message on stream {}: {}", p.stream,
                            std::strerror(err));
            }
            auto& b = buffered_[p.stream];
            auto before = b;
            b -= std::min(b, p.data.size());
            queued_bytes_ -= std::min(queued_bytes_, p.data.size());
            changed.push_back({p.stream, before, b});
            queue_.pop_front();
        }
    }
    if (on_buffered_)
        for (const auto& c : changed)
            on_buffered_(c.stream, c.before, c.after);
    request_resets(); // usrsctp had room again: acknowledged data may let resets go
    nudge_resets();
}

bool SctpAssociation::dry() const {
    {
        std::lock_guard lock(send_mu_);
        if (!queue_.empty())
            return false;
    }
    struct sctp_status status {};
    socklen_t len = sizeof status;
    return sock_ && usrsctp_getsockopt(sock_, IPPROTO_SCTP, SCTP_STATUS, &status, &len) == 0 &&
           status.sstat_unackdata == 0 && status.sstat_penddata == 0;
}

void SctpAssociation::reset_stream(std::uint16_t stream) {
    {
        std::lock_guard lock(send_mu_);
        if (resets_wanted_.empty())
            resets_wanted_since_ = std::chrono::steady_clock::now();
        resets_wanted_.insert(stream);
    }
    if (loop_->in_loop_thread())
        request_resets();
    else {
        std::weak_ptr<SctpAssociation> weak = weak_from_this();
        loop_->post([weak] {
            if (auto self = weak.lock())
                self->request_resets();
        });
    }
}

void SctpAssociation::request_resets() {
    std::vector<std::uint16_t> streams;
    {
        std::lock_guard lock(send_mu_);
        streams.assign(resets_wanted_.begin(), resets_wanted_.end());
    }
    if (streams.empty() || !sock_ || state_ != TransportState::Connected)
        return;
    if (!dry() && std::chrono::steady_clock::now() - resets_wanted_since_ < kResetHoldMax) {
        schedule_reset_nudge(); // asked again when dry (SENDER_DRY, a flush) or on the timer
        return;
    }
    int err = ask_reset(sock_, streams);
    if (err == 0) {
        F0_LOG_DEBUG(logger(), "association {}: reset of {} streams requested{}", id_,
                     streams.size(), dry() ? "" : " (data still in flight: held long enough)");
        {
            std::lock_guard lock(send_mu_);
            for (auto s : streams) {
                resets_wanted_.erase(s);
                resets_requested_.insert(s);
            }
            nudges_ = 0;
        }
        schedule_reset_nudge();
    } else if (err == EINVAL && !established()) {
        // The peer closed (ABORT or SHUTDOWN) before we heard of it: no stream to reset.
        F0_LOG_DEBUG(logger(), "association {}: reset of {} streams dropped: no longer open", id_,
                     streams.size());
    } else if (err != EALREADY && err != EAGAIN && err != EBUSY) {
        F0_LOG_WARN(logger(), "association {}: reset of {} streams (first {}) failed: {}", id_,
                    streams.size(), streams.front(), std::strerror(err));
    } else { // one request may be in flight; retried on the next stream reset event
        F0_LOG_DEBUG(logger(), "association {}: reset of {} streams (first {}) deferred: {}", id_,
                     streams.size(), streams.front(), std::strerror(err));
    }
}

void SctpAssociation::nudge_resets() {
    std::vector<std::uint16_t> streams;
    {
        std::lock_guard lock(send_mu_);
        streams.assign(resets_requested_.begin(), resets_requested_.end());
    }
    if (streams.empty() || !sock_ || state_ != TransportState::Connected)
        return;
    (void)ask_reset(sock_, streams);
}

void SctpAssociation::schedule_reset_nudge() {
    {
        std::lock_guard lock(send_mu_);
        if (nudge_scheduled_ || (resets_requested_.empty() && resets_wanted_.empty()))
            return;
        if (nudges_ >= kResetNudgesMax) {
            F0_LOG_DEBUG(logger(),
                         "association {}: {} stream resets still unfinished after {} s; no longer "
                         "asking usrsctp again",
                         id_, resets_requested_.size() + resets_wanted_.size(),
                         kResetNudgesMax * kResetNudgeInterval.count() / 1000);
            return;
        }
        ++nudges_;
        nudge_scheduled_ = true;
    }
    std::weak_ptr<SctpAssociation> weak = weak_from_this();
    loop_->call_later(kResetNudgeInterval, [weak] {
        auto self = weak.lock();
        if (!self)
            return;
        {
            std::lock_guard lock(self->send_mu_);
            self->nudge_scheduled_ = false;
        }
        self->request_resets();
        self->nudge_resets();
        self->schedule_reset_nudge(); // until every reset is done
    });
}

void SctpAssociation::handle_receive(void* data, std::size_t len, std::uint16_t stream,
                                     std::uint32_t ppid, int flags) {
    if (!data) {
        set_state(TransportState::Closed);
        return;
    }
    if (flags & MSG_NOTIFICATION) {
        handle_notification(data, len);
        return;
    }
    auto* bytes = static_cast<const std::uint8_t*>(data);
    auto p = static_cast<Ppid>(ppid);
    auto refuse = [&](std::size_t size) {
        g_oversize.fetch_add(1, std::memory_order_relaxed);
        static log::Sampled sampled;
        if (auto n = sampled.next())
            F0_LOG_WARN(logger(),
                        "association {}: discarded a message of {} bytes on stream {} (our "
                        "max-message-size is {}; {} so far)",
                        id_, size, stream, config_.max_message_size, *n);
        if (on_oversize_)
            on_oversize_(stream, size);
    };
    // Pieces of one message until MSG_EOR. A message is delivered whole or not at all: once its
    // size passes max_message_size nothing more of it is kept, and its last piece discards it.
    auto it = partial_.find(stream);
    if (!(flags & MSG_EOR)) {
        auto& part = it == partial_.end() ? partial_[stream] : it->second;
        part.total += len;
        if (!part.oversize && part.total <= config_.max_message_size) {
            part.bytes.insert(part.bytes.end(), bytes, bytes + len);
        } else if (!part.oversize) {
            part.oversize = true;
            std::vector<std::uint8_t>().swap(part.bytes);
        }
        return;
    }
    std::vector<std::uint8_t> whole;
    std::span<const std::uint8_t> msg{bytes, len};
    if (it != partial_.end()) {
        Partial part = std::move(it->second);
        partial_.erase(it);
        part.total += len;
        if (part.oversize || part.total > config_.max_message_size)
            return refuse(part.total);
        whole = std::move(part.bytes);
        whole.insert(whole.end(), bytes, bytes + len);
        msg = whole;
    } else if (len > config_.max_message_size) {
        return refuse(len);
    }
    if (p == Ppid::StringEmpty || p == Ppid::BinaryEmpty) // one placeholder byte
        msg = {};
    if (on_message_)
        on_message_(stream, p, msg);
}

void SctpAssociation::handle_notification(const void* data, std::size_t len) {
    auto* n = static_cast<const union sctp_notification*>(data);
    if (len < sizeof(n->sn_header))
        return;
    switch (n->sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE: {
        auto st = n->sn_assoc_change.sac_state;
        if (st == SCTP_COMM_UP) {
            set_state(TransportState::Connected);
            flush_queue();
        } else if (st == SCTP_COMM_LOST &&
                   n->sn_assoc_change.sac_length > sizeof(struct sctp_assoc_change)) {
            // The peer's ABORT (RFC 6458 6.1.1: the chunk follows the notification): how a
            // browser's close() and a dropped PeerConnection end. A close, not a failure.
            F0_LOG_DEBUG(logger(), "association {}: aborted by the peer", id_);
            set_state(TransportState::Closed);
        } else if (st == SCTP_COMM_LOST || st == SCTP_CANT_STR_ASSOC)
            set_state(TransportState::Failed);
        else if (st == SCTP_SHUTDOWN_COMP)
            set_state(TransportState::Closed);
        break;
    }
    case SCTP_PARTIAL_DELIVERY_EVENT: {
        // The peer abandoned a message being delivered in pieces (partial reliability): what
        // arrived of it is dropped, never prefixed to the stream's next message.
        const auto& pd = n->sn_pdapi_event;
        if (pd.pdapi_indication == SCTP_PARTIAL_DELIVERY_ABORTED) {
            partial_.erase(static_cast<std::uint16_t>(pd.pdapi_stream));
            F0_LOG_DEBUG(logger(), "association {}: partial delivery on stream {} aborted", id_,
                         pd.pdapi_stream);
        }
        break;
    }
    case SCTP_SENDER_DRY_EVENT:
        request_resets(); // everything we sent is acknowledged: resets held for it may go
        break;
    case SCTP_STREAM_RESET_EVENT: {
        const auto& ev = n->sn_strreset_event;
        std::size_t count = (ev.strreset_length - sizeof(ev)) / sizeof(std::uint16_t);
        F0_LOG_DEBUG(logger(),
                     "association {}: stream reset event, flags {:#x}, {} streams (first {})", id_,
                     ev.strreset_flags, count, count ? ev.strreset_stream_list[0] : -1);
        const bool failed =
            ev.strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED);
        for (std::size_t i = 0; i < count; ++i) {
            std::uint16_t s = ev.strreset_stream_list[i];
            if (ev.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) {
                partial_.erase(s);
                if (on_reset_)
                    on_reset_(s);
            }
            if (ev.strreset_flags & SCTP_STREAM_RESET_OUTGOING_SSN) {
                {
                    std::lock_guard lock(send_mu_);
                    resets_requested_.erase(s);
                    nudges_ = 0; // progress
                }
                static log::Sampled refused;
                if (failed)
                    if (auto k = refused.next())
                        F0_LOG_INFO(
                            logger(),
                            "association {}: the peer refused to reset stream {} ({} so far)", id_,
                            s, *k);
                if (on_out_reset_)
                    on_out_reset_(s);
            }
        }
        request_resets(); // anything that waited for the previous request
        break;
    }
    default:
        break;
    }
}

bool SctpAssociation::established() const {
    struct sctp_status status {};
    socklen_t len = sizeof status;
    return sock_ && usrsctp_getsockopt(sock_, IPPROTO_SCTP, SCTP_STATUS, &status, &len) == 0 &&
           status.sstat_state == SCTP_ESTABLISHED;
}

std::optional<std::chrono::milliseconds> SctpAssociation::smoothed_rtt() const {
    if (!sock_ || state_ != TransportState::Connected)
        return std::nullopt;
    struct sctp_status status {};
    socklen_t len = sizeof status;
    if (usrsctp_getsockopt(sock_, IPPROTO_SCTP, SCTP_STATUS, &status, &len) != 0)
        return std::nullopt;
    return std::chrono::milliseconds(status.sstat_primary.spinfo_srtt);
}

} // namespace f0::rtc::sctp
